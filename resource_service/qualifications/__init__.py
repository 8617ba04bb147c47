"""People's skills and qualifications (AS9100 7.2): the catalogue of skills,
each person's qualification records with their history, and the check that
only a qualified person does qualified work."""

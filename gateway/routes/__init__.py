"""One module of routes per backing service; the Gateway class mixes them in."""

"""Untrusted XML (QIF from a CMM, B2MML from an ERP), parsed safely and
checked against the official schema of its standard.

The parser resolves no entity, loads no DTD, reaches no network, keeps
libxml2's limits on depth and text size (no `huge_tree`), and refuses a
document that declares a DOCTYPE at all: no standard we take needs one, and
every XML bomb and external-entity attack starts with one. The size is bounded
before parsing. A schema is loaded once per process (QIF's takes ~0.1 s).
"""
import functools
from pathlib import Path

from lxml import etree

from mes_common import errors

MAX_BYTES = 20 * 1024 * 1024   # a QIF results file of 5,000 measurements is ~5 MB


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


def parse(data, max_bytes=MAX_BYTES, field="body"):
    """The element tree of `data` (bytes or text), or 400 naming `field` with
    the parser's line and message (413 when larger than `max_bytes`)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise errors.TooLarge(f"the document is larger than {max_bytes} bytes",
                              {field: [f"at most {max_bytes} bytes"]})
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        raise errors.ValidationFailed(f"the document is not well-formed XML: {_where(exc)}",
                                      {field: [_where(exc)]}) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise errors.ValidationFailed("the document declares a DOCTYPE: refused (no entities, no DTDs)",
                                      {field: ["a DOCTYPE is not allowed"]})
    return tree


def _where(exc):
    line = getattr(exc, "lineno", None) or (exc.error_log.last_error.line if exc.error_log else None)
    message = exc.error_log.last_error.message if exc.error_log and exc.error_log.last_error else str(exc)
    return f"line {line}: {message}" if line else message


@functools.lru_cache(maxsize=8)
def schema(path):
    """The XML Schema at `path` (its includes read from beside it, never from the network)."""
    path = Path(path)
    if not path.is_file():
        raise errors.Unavailable(f"the schema {path.name} is not installed at {path.parent}",
                                 {"schema": [str(path)]})
    source = str(path)
    return etree.XMLSchema(etree.parse(source, _parser()))


def validate(tree, xml_schema, field="body", namespace=None):
    """400 with the first schema error's line and message (and the root's
    namespace named first when it is not `namespace`)."""
    root = tree.getroot()
    if namespace is not None and etree.QName(root).namespace != namespace:
        found = etree.QName(root).namespace or "no namespace"
        raise errors.ValidationFailed(f"the document's namespace is {found}, not {namespace}",
                                      {field: [f"root element {etree.QName(root).localname} in {found}; "
                                               f"expected {namespace}"]})
    if not xml_schema.validate(tree):
        error = xml_schema.error_log.last_error
        first = xml_schema.error_log[0] if len(xml_schema.error_log) else error
        raise errors.ValidationFailed(f"the document does not validate against the schema: line {first.line}: "
                                      f"{first.message}", {field: [f"line {first.line}: {first.message}"]})
    return tree

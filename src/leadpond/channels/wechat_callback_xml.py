"""The XML WeChat posts to an official account's server, read safely.

WeChat's messages are one ``<xml>`` element of named fields (``<MsgType>``, ``<Event>``…), a
few of them nested (``<SendLocationInfo>``, ``<List><item>…``). Anyone can post to the callback
URL before its signature is checked, so the reader takes nothing an attacker could use: a
document type declaration (where entities, external ones included, are declared: XXE and
"billion laughs") is refused outright, as is a body over 64 KiB or nested too deeply. Expat is
driven directly, as defusedxml does, rather than through a parser that resolves entities.
"""

from dataclasses import dataclass, field
from typing import Any, NoReturn
from xml.parsers import expat

from leadpond.kit.errors import InvalidInput

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 8


class BadCallbackXml(InvalidInput):
    code = "invalid_xml"


@dataclass
class _Element:
    name: str
    text: list[str] = field(default_factory=list)
    children: list["_Element"] = field(default_factory=list)

    def value(self) -> Any:
        """Text for a leaf; for a parent, its children by name (a repeated name: a list)."""
        if not self.children:
            return "".join(self.text).strip()
        found: dict[str, Any] = {}
        for child in self.children:
            value = child.value()
            if child.name not in found:
                found[child.name] = value
            elif isinstance(found[child.name], list):
                found[child.name].append(value)
            else:
                found[child.name] = [found[child.name], value]
        return found


@dataclass(frozen=True)
class Inbound:
    """One message or event WeChat posted: its fields by name, as WeChat spells them."""

    fields: dict[str, Any]

    def text(self, name: str) -> str:
        """A field's text ("" when it is missing or not text)."""
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def msg_type(self) -> str:
        """``text``, ``event``, ``image``…, lower case."""
        return self.text("MsgType").lower()

    @property
    def event(self) -> str:
        """For events, their name lower case (WeChat mixes ``subscribe`` and ``SCAN``); else ""."""
        return self.text("Event").lower() if self.msg_type == "event" else ""


def _refuse(*_args: object) -> NoReturn:
    raise BadCallbackXml("document type declarations and entities are not accepted")


def read_xml(body: bytes) -> dict[str, Any]:
    """The fields of a WeChat ``<xml>`` document (its root's children), or 400 ``invalid_xml``."""
    if len(body) > MAX_BODY_BYTES:
        raise BadCallbackXml(f"the body is larger than {MAX_BODY_BYTES} bytes")
    stack: list[_Element] = []
    roots: list[_Element] = []

    def start(name: str, _attributes: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise BadCallbackXml(f"elements are nested deeper than {MAX_DEPTH}")
        element = _Element(name)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    parser = expat.ParserCreate(encoding="utf-8")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise BadCallbackXml(f"not well-formed XML: {exc}") from exc
    fields = roots[0].value() if roots else None
    if not isinstance(fields, dict):
        raise BadCallbackXml("expected an <xml> element of fields")
    return fields


def read_message(body: bytes) -> Inbound:
    """A posted message or event (plaintext, or decrypted from safe mode)."""
    return Inbound(read_xml(body))

// Quoting and escaping text for output, in one place: a C string literal
// (text listings), a Graphviz DOT string (labels), HTML text/attributes and
// JSON inside an HTML <script>.
// Each takes UTF-8 and never fails; bytes a target cannot carry become a
// visible \xNN.
#pragma once
#include <string>
#include <string_view>

namespace sb {

// "..." as C writes it: \" \\ \n \r \t, other bytes below 0x20 as \xNN;
// the rest (UTF-8 included) as is. wide: with the L prefix (L"...").
std::string cLiteral(std::string_view s, bool wide = false);

// "..." for a DOT string attribute read as Graphviz label text (escString):
// \" and \\, a newline as \n (a line break), & as &amp; (Graphviz reads
// entities in labels), and control bytes, DEL and bytes that are no valid
// UTF-8 as the visible text \xNN. Whatever the input, the result is one
// valid DOT string whose label shows the input.
std::string dotString(std::string_view s);

// Text for an HTML element's content or a quoted attribute value: & < > "
// and ' as entities; control bytes (but tab, newline, carriage return), DEL
// and bytes that are no valid UTF-8 as the visible text \xNN.
std::string htmlEscape(std::string_view s);

// JSON text made safe as the content of a <script> element: every < becomes
// \u003c (a JSON string escape, so the data parses the same), so that no
// "</script" or "<!--" can end or change the element.
std::string scriptJson(std::string_view json);

} // namespace sb

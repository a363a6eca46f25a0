#include "JsonMember.h"

namespace sluice {
namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The index just past the string starting at json[at] (a quote), or -1 when it never ends.
qsizetype skipString(QByteArrayView json, qsizetype at)
{
    for (qsizetype i = at + 1; i < json.size(); ++i) {
        if (json[i] == '\\')
            ++i;
        else if (json[i] == '"')
            return i + 1;
    }
    return -1;
}

// The index just past the value starting at json[at], or -1 when it is cut short.
qsizetype skipValue(QByteArrayView json, qsizetype at)
{
    if (at >= json.size())
        return -1;
    if (json[at] == '"')
        return skipString(json, at);
    if (json[at] != '{' && json[at] != '[') {  // number, true, false, null
        qsizetype i = at;
        while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']' &&
               !isSpace(json[i]))
            ++i;
        return i;
    }
    int depth = 0;
    for (qsizetype i = at; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"') {
            i = skipString(json, i);
            if (i < 0)
                return -1;
            --i;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return -1;
}

qsizetype skipSpace(QByteArrayView json, qsizetype i)
{
    while (i < json.size() && isSpace(json[i]))
        ++i;
    return i;
}

}  // namespace

QByteArrayView JsonMember::topLevel(QByteArrayView json, QByteArrayView name)
{
    qsizetype i = skipSpace(json, 0);
    if (i >= json.size() || json[i] != '{')
        return {};
    QByteArrayView found;
    i = skipSpace(json, i + 1);
    while (i < json.size() && json[i] == '"') {
        const qsizetype keyEnd = skipString(json, i);
        if (keyEnd < 0)
            return {};
        // Member names with escapes never equal a plain name: compare the raw text.
        const QByteArrayView key = json.sliced(i + 1, keyEnd - i - 2);
        i = skipSpace(json, keyEnd);
        if (i >= json.size() || json[i] != ':')
            return {};
        const qsizetype valueStart = skipSpace(json, i + 1);
        const qsizetype valueEnd = skipValue(json, valueStart);
        if (valueEnd < 0)
            return {};
        if (key == name)
            found = json.sliced(valueStart, valueEnd - valueStart);
        i = skipSpace(json, valueEnd);
        if (i < json.size() && json[i] == ',')
            i = skipSpace(json, i + 1);
        else
            break;
    }
    if (i >= json.size() || json[i] != '}')
        return {};  // not a well-formed object: nothing is trusted
    return found;
}

}  // namespace sluice

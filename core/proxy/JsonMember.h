#pragma once

#include <QByteArrayView>

namespace sluice {

// Finds one member of a JSON object's top level without parsing the rest: the proxy only
// needs "usage" from an answer of many kilobytes, and QJsonDocument building every value of
// it was a tenth of the gateway's CPU. Strings and escapes are followed exactly, so a "usage"
// inside a string or a nested object is never taken for the member. Pure; unit-tested.
class JsonMember
{
public:
    // The raw text of the value of `name` in the top-level object of `json` (the last one when
    // the name repeats, as QJsonDocument keeps), or a null view when there is none or the text
    // is not an object. The value is not validated: parse it.
    static QByteArrayView topLevel(QByteArrayView json, QByteArrayView name);
};

}  // namespace sluice

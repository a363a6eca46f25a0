#pragma once

#include <QByteArray>

namespace sluice {

// Reason phrase for a status code ("Not Found"); "Unknown" for codes http_parser does not know.
QByteArray httpReasonPhrase(int status);

}  // namespace sluice

#pragma once

#include <QByteArray>

namespace sluice {

// X-Request-Id handling: a client's id is kept when it is sane (1-128 characters of
// [A-Za-z0-9._:-]), so ids can be correlated across hops; otherwise a random one is made.
namespace RequestId {
bool isSane(QByteArrayView id);
// 32 lowercase hex characters from a per-thread generator seeded by the system CSPRNG.
QByteArray generate();
}  // namespace RequestId

}  // namespace sluice

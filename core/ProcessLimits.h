#pragma once

namespace sluice {

// Raises the soft RLIMIT_NOFILE to the hard limit: every client and upstream connection is a
// descriptor, and the usual soft limit of 1024 is far below what a gateway holds.
// Returns the new soft limit (or the old one when it could not be raised).
long raiseFileDescriptorLimit();

}  // namespace sluice

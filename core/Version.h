#pragma once

namespace sluice {
// Set by CMake from project(VERSION ...).
inline constexpr const char *kVersion = SLUICE_VERSION;
}  // namespace sluice

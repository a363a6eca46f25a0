pragma Singleton
import QtQuick

// Colours, spacing and type scale of the dashboard, light and dark. `dark` is set by Main.qml
// from the settings (or the palette's window colour when the theme follows the system).
QtObject {
    property bool dark: false

    readonly property color bg: dark ? "#16181d" : "#f4f5f7"
    readonly property color surface: dark ? "#1f2229" : "#ffffff"
    readonly property color surfaceAlt: dark ? "#272b33" : "#eef0f3"
    readonly property color border: dark ? "#353a44" : "#d9dce1"
    readonly property color text: dark ? "#e6e8eb" : "#1d2026"
    readonly property color textMuted: dark ? "#9aa1ac" : "#5c6370"
    readonly property color accent: dark ? "#6ea8fe" : "#2f6fdb"
    readonly property color healthy: dark ? "#4cc27e" : "#23884c"
    readonly property color degraded: dark ? "#f0b541" : "#a86a00"
    readonly property color unhealthy: dark ? "#ff6b6b" : "#c62828"
    readonly property color error: unhealthy
    readonly property color selection: dark ? "#2c3a52" : "#dce7fb"

    // Spacing: multiples of 4.
    readonly property int s1: 4
    readonly property int s2: 8
    readonly property int s3: 12
    readonly property int s4: 16
    readonly property int s5: 24
    readonly property int radius: 6

    // Type scale.
    readonly property int fontSmall: 11
    readonly property int fontBody: 13
    readonly property int fontTitle: 16
    readonly property int fontHeadline: 24
    readonly property string mono: "monospace"

    function statusColor(status) {
        if (status === "healthy" || status === "active")
            return healthy
        if (status === "degraded" || status === "user disabled")
            return degraded
        if (status === "unhealthy" || status === "revoked")
            return unhealthy
        return textMuted
    }
    function httpStatusColor(code) {
        if (code === 429)
            return degraded
        if (code >= 400)
            return unhealthy
        return healthy
    }
}

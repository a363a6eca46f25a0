import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A status as colour and text together (never colour alone).
RowLayout {
    id: badge
    property string status: ""
    property string label: status === "" ? "unknown" : status
    spacing: Theme.s1
    Accessible.role: Accessible.StaticText
    Accessible.name: "Status: " + label

    Rectangle {
        width: 10; height: 10; radius: 5
        color: Theme.statusColor(badge.status)
    }
    Label {
        Layout.fillWidth: true
        elide: Text.ElideRight
        text: badge.label
        color: Theme.statusColor(badge.status)
        font.pixelSize: Theme.fontBody
        font.bold: true
    }
}

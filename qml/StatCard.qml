import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One headline number with its caption.
Rectangle {
    id: card
    property string caption
    property string value
    property string hint
    // Addresses do not fit the headline size in a narrow card.
    property int valueSize: Theme.fontHeadline
    implicitHeight: column.implicitHeight + 2 * Theme.s4
    implicitWidth: 180
    radius: Theme.radius
    color: Theme.surface
    border.color: Theme.border
    Accessible.role: Accessible.StaticText
    Accessible.name: caption + ": " + value

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: Theme.s4
        spacing: Theme.s1
        Label {
            text: card.caption
            color: Theme.textMuted
            font.pixelSize: Theme.fontSmall
        }
        Label {
            text: card.value
            color: Theme.text
            font.pixelSize: card.valueSize
            elide: Text.ElideMiddle
            Layout.fillWidth: true
        }
    }
    HoverHandler { id: hover }
    ToolTip.visible: hover.hovered && card.hint !== ""
    ToolTip.text: card.hint
}

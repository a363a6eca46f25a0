import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One headline number with its caption.
Rectangle {
    id: card
    property string caption
    property string value
    property string hint
    property string detail  // a smaller second line (e.g. the admin address under the API's)
    // Addresses do not fit the headline size in a narrow card.
    property int valueSize: Theme.fontHeadline
    implicitHeight: column.implicitHeight + 2 * Theme.s4
    implicitWidth: 180
    radius: Theme.radius
    color: Theme.surface
    border.color: Theme.border
    Accessible.role: Accessible.StaticText
    Accessible.name: caption + ": " + value + (detail !== "" ? ", " + detail : "")

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
        Label {
            visible: card.detail !== ""
            text: card.detail
            color: Theme.textMuted
            font.pixelSize: Theme.fontSmall
            elide: Text.ElideMiddle
            Layout.fillWidth: true
        }
        Item { Layout.fillHeight: true }  // cards of one row share its height; text stays on top
    }
    HoverHandler { id: hover }
    ToolTip.visible: hover.hovered && card.hint !== ""
    ToolTip.text: card.hint
}

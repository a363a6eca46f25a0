import QtQuick
import QtQuick.Controls

// A table column's caption.
Label {
    property string tip
    color: Theme.textMuted
    font.pixelSize: Theme.fontSmall
    font.bold: true
    elide: Text.ElideRight
    HoverHandler { id: hover }
    ToolTip.visible: hover.hovered && tip !== ""
    ToolTip.text: tip
}

import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A page's title, with room for the page's own controls on the right.
RowLayout {
    property string title
    default property alias actions: actionRow.data
    spacing: Theme.s3
    Label {
        text: parent.title
        font.pixelSize: Theme.fontTitle + 4
        font.bold: true
        color: Theme.text
        Accessible.role: Accessible.Heading
        Accessible.name: parent.title
    }
    Item { Layout.fillWidth: true }
    RowLayout {
        id: actionRow
        spacing: Theme.s2
    }
}

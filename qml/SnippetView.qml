import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Ready-to-paste client code for a key against this gateway, one tab per client.
ColumnLayout {
    id: view
    required property Dashboard dashboard
    property string key: ""

    // `baseUrl` is an argument so that the binding follows it: a remote dashboard learns the
    // gateway's address from its first overview, after the page may already show an example.
    function example(baseUrl: string, kind: string, key: string): string {
        return baseUrl.length >= 0 ? view.dashboard.snippet(kind, key) : ""
    }
    spacing: Theme.s2

    TabBar {
        id: tabs
        Layout.fillWidth: true
        Repeater {
            model: view.dashboard.snippetKinds
            TabButton {
                required property string modelData
                text: view.dashboard.snippetTitle(modelData)
                width: implicitWidth
                Accessible.name: "Show the " + text + " example"
            }
        }
    }
    ScrollView {
        Layout.fillWidth: true
        Layout.preferredHeight: 170
        TextArea {
            id: code
            readOnly: true
            selectByMouse: true
            font.family: Theme.mono
            font.pixelSize: Theme.fontSmall + 1
            color: Theme.text
            text: view.example(view.dashboard.baseUrl,
                               view.dashboard.snippetKinds[tabs.currentIndex], view.key)
            wrapMode: TextEdit.NoWrap
            Accessible.name: "Example code"
            background: Rectangle { color: Theme.surfaceAlt; radius: Theme.radius }
        }
    }
    Button {
        text: "Copy example"
        onClicked: view.dashboard.copyToClipboard(code.text)
        Accessible.name: "Copy the example code"
    }
}

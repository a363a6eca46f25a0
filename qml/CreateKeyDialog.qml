import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Creates a key (and its user when asked). The plaintext is shown here once, with a copy
// button and ready-to-paste examples; it is never stored or shown again.
Dialog {
    id: dialog
    required property Dashboard dashboard
    property string plaintext: ""
    property string prefix: ""
    property string error: ""
    property int ticket: -1
    title: plaintext === "" ? "Create an API key" : "Your new key"
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(720, parent ? parent.width - 40 : 720)
    standardButtons: plaintext === "" ? Dialog.Cancel : Dialog.Close

    function openFor(userName) {
        plaintext = ""
        prefix = ""
        error = ""
        ticket = -1
        user.text = userName || ""
        keyName.text = ""
        tier.currentIndex = 0
        open()
        user.forceActiveFocus()
    }
    function create() {
        error = ""
        ticket = dashboard.editor.createKey(user.text, keyName.text,
                                            tier.currentIndex > 0 ? tier.currentText : "",
                                            createUser.checked)
    }

    Connections {
        target: dialog.dashboard.editor
        function onFinished(t, ok, message) {
            if (t === dialog.ticket && !ok)
                dialog.error = message
        }
        function onKeyCreated(t, key, prefix) {
            if (t !== dialog.ticket)
                return
            dialog.plaintext = key
            dialog.prefix = prefix
        }
    }

    contentItem: ColumnLayout {
        spacing: Theme.s3
        GridLayout {
            visible: dialog.plaintext === ""
            columns: 2
            columnSpacing: Theme.s3
            rowSpacing: Theme.s2
            Layout.fillWidth: true
            Label { text: "User" }
            TextField {
                id: user
                Layout.fillWidth: true
                placeholderText: "alice"
                Accessible.name: "User name"
                onAccepted: dialog.create()
            }
            Item { width: 1 }
            CheckBox {
                id: createUser
                checked: true
                text: "Create the user if it does not exist"
                Accessible.name: text
            }
            Label { text: "Key name" }
            TextField {
                id: keyName
                Layout.fillWidth: true
                placeholderText: "optional, e.g. laptop"
                Accessible.name: "Key name"
                onAccepted: dialog.create()
            }
            Label { text: "Tier" }
            ComboBox {
                id: tier
                Layout.fillWidth: true
                model: ["(the user's tier)"].concat(dialog.dashboard.keys.tierNames)
                Accessible.name: "Tier of the key"
            }
        }
        Label {
            visible: dialog.error !== ""
            text: dialog.error
            color: Theme.error
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
            Accessible.role: Accessible.AlertMessage
            Accessible.name: text
        }
        Button {
            visible: dialog.plaintext === ""
            text: "Create key"
            highlighted: true
            enabled: user.text.trim() !== "" && !dialog.dashboard.editor.busy
            onClicked: dialog.create()
            Accessible.name: "Create the key"
        }

        // After creation: the key, once.
        Label {
            visible: dialog.plaintext !== ""
            text: "⚠ Copy this key now. It is shown only once and cannot be recovered; "
                  + "revoke it and create another if it is lost."
            color: Theme.degraded
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
            Accessible.role: Accessible.AlertMessage
            Accessible.name: text
        }
        RowLayout {
            visible: dialog.plaintext !== ""
            Layout.fillWidth: true
            TextField {
                objectName: "createdKey"
                Layout.fillWidth: true
                readOnly: true
                selectByMouse: true
                text: dialog.plaintext
                font.family: Theme.mono
                Accessible.name: "The new key"
            }
            Button {
                text: "Copy key"
                onClicked: dialog.dashboard.copyToClipboard(dialog.plaintext)
                Accessible.name: "Copy the key to the clipboard"
            }
        }
        SnippetView {
            visible: dialog.plaintext !== ""
            Layout.fillWidth: true
            dashboard: dialog.dashboard
            key: dialog.plaintext
        }
    }
}

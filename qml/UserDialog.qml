import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Edits a user's name and email: one edit of the user through the KeyEditor, so the admin
// service validates both and saves both or neither. A refused value keeps the dialog open with
// the service's message; Cancel or Escape submits nothing.
Dialog {
    id: dialog
    required property Dashboard dashboard
    property string userName: ""   // the user as stored: the edit's target
    property string error: ""
    property int ticket: -1
    readonly property string newName: nameField.text.trim()
    readonly property string newEmail: emailField.text.trim()
    // Client-side only what needs no rules: a name is required and something must change.
    readonly property bool canSave: newName !== "" && ticket < 0
                                    && (newName !== userName || newEmail !== originalEmail)
    property string originalEmail: ""

    title: "Edit user " + userName
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(480, parent ? parent.width - 40 : 480)
    standardButtons: Dialog.Cancel
    closePolicy: Popup.CloseOnEscape

    function openFor(name, email) {
        userName = name
        originalEmail = email || ""
        error = ""
        ticket = -1
        nameField.text = name
        emailField.text = originalEmail
        open()
        nameField.forceActiveFocus()
        nameField.selectAll()
    }
    function save() {
        if (!canSave)
            return
        error = ""
        ticket = dashboard.editor.setUserIdentity(userName, newName, newEmail)
    }

    Connections {
        target: dialog.dashboard.editor
        function onFinished(t, ok, message) {
            if (t !== dialog.ticket)
                return
            dialog.ticket = -1
            if (ok)
                dialog.close()
            else
                dialog.error = message
        }
    }

    contentItem: ColumnLayout {
        spacing: Theme.s3
        GridLayout {
            columns: 2
            columnSpacing: Theme.s3
            rowSpacing: Theme.s2
            Layout.fillWidth: true
            Label { text: "Name" }
            TextField {
                id: nameField
                objectName: "userNameField"
                Layout.fillWidth: true
                placeholderText: "alice"
                Accessible.name: "User name"
                Accessible.description: "Letters, digits and . _ @ -, up to 64 characters"
                onAccepted: dialog.save()
            }
            Label { text: "Email" }
            TextField {
                id: emailField
                objectName: "userEmailField"
                Layout.fillWidth: true
                placeholderText: "optional, e.g. alice@example.com"
                Accessible.name: "Email"
                onAccepted: dialog.save()
            }
        }
        Label {
            text: "Keys, limits and usage stay with the user under its new name."
            color: Theme.textMuted
            font.pixelSize: Theme.fontSmall
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
        }
        Label {
            objectName: "userDialogError"
            visible: dialog.error !== ""
            text: dialog.error
            color: Theme.error
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
            Accessible.role: Accessible.AlertMessage
            Accessible.name: text
        }
        Button {
            objectName: "userSaveButton"
            text: "Save"
            highlighted: true
            enabled: dialog.canSave
            onClicked: dialog.save()
            Accessible.name: "Save the user"
        }
    }
}

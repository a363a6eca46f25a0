import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Edits a user: the name and email as one edit of the user through the KeyEditor (the admin
// service validates both and saves both or neither; Save), and the user's tier and own limits,
// which bound all its keys together, each saved on its own as in the table (the tier when
// picked, a limit on Enter). A refused value keeps the dialog open with the service's message;
// Cancel or Escape submits nothing more.
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
    property string userTier: ""
    property var userOverrides: ({})
    property var tierNames: []
    property var limitFields: []       // [{name, label}] as on the Keys page
    property int tierTicket: -1

    title: "Edit user " + userName
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(480, parent ? parent.width - 40 : 480)
    standardButtons: Dialog.Close  // limits and the tier are saved as they are edited
    closePolicy: Popup.CloseOnEscape

    function openFor(name, email, tier, overrides) {
        userName = name
        originalEmail = email || ""
        userTier = tier || ""
        userOverrides = overrides || ({})
        tierTicket = -1
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
            if (t === dialog.tierTicket) {
                dialog.tierTicket = -1
                dialog.error = ok ? "" : message
                if (!ok)
                    tierBox.currentIndex = dialog.tierNames.indexOf(dialog.userTier)
                return
            }
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
        Button {
            objectName: "userSaveButton"
            text: "Save"
            highlighted: true
            enabled: dialog.canSave
            onClicked: dialog.save()
            Accessible.name: "Save the user"
        }
        Rectangle {
            Layout.fillWidth: true
            implicitHeight: 1
            color: Theme.border
        }
        Label {
            text: "Tier and limits of " + dialog.userName + ", shared by all its keys "
                  + "(empty inherits the tier's, 0 is unlimited; Enter saves a limit)"
            font.bold: true
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
        }
        RowLayout {
            spacing: Theme.s2
            Label { text: "Tier" }
            ComboBox {
                id: tierBox
                objectName: "userTierBox"
                model: dialog.tierNames
                currentIndex: dialog.tierNames.indexOf(dialog.userTier)
                Accessible.name: "Tier of user " + dialog.userName
                onActivated: (i) => {
                    dialog.error = ""
                    dialog.tierTicket = dialog.dashboard.editor.setUserTier(dialog.userName,
                                                                            dialog.tierNames[i])
                }
            }
        }
        GridLayout {
            columns: 4
            columnSpacing: Theme.s2
            rowSpacing: Theme.s1
            Repeater {
                model: dialog.limitFields
                ColumnLayout {
                    required property var modelData
                    spacing: 2
                    Label {
                        text: modelData.label
                        color: Theme.textMuted
                        font.pixelSize: Theme.fontSmall
                    }
                    LimitField {
                        objectName: "userLimitField:" + modelData.name
                        Layout.preferredWidth: 100
                        editor: dialog.dashboard.editor
                        limit: modelData.name
                        owner: "user " + dialog.userName
                        own: dialog.userOverrides[modelData.name]
                        placeholderText: "tier's"
                        save: (text) => dialog.dashboard.editor.setUserLimit(dialog.userName,
                                                                            modelData.name, text)
                    }
                }
            }
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
    }
}

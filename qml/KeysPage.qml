import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Users and keys: search and filters, create (plaintext once), revoke, and inline edits of a
// key's or user's tier and limits. Every edit goes through the KeyEditor to the admin service;
// a refused value is shown at its field and nothing is saved.
Item {
    id: page
    required property Dashboard dashboard
    readonly property KeysModel keys: dashboard.keys
    readonly property KeysFilterModel filtered: dashboard.filteredKeys
    readonly property var limitFields: [
        { name: "requests_per_second", label: "req/s" },
        { name: "burst", label: "burst" },
        { name: "requests_per_minute", label: "req/min" },
        { name: "tokens_per_minute", label: "tok/min" },
        { name: "monthly_requests", label: "req/month" },
        { name: "monthly_tokens", label: "tok/month" },
        { name: "concurrent_requests", label: "concurrent" }
    ]
    readonly property int tableWidth: 1540
    property string firstKey: ""

    function openCreate(userName) { createDialog.openFor(userName) }

    CreateKeyDialog {
        id: createDialog
        dashboard: page.dashboard
        parent: Overlay.overlay
    }
    Dialog {
        id: revokeDialog
        property string keyId
        property string label
        title: "Revoke " + label + "?"
        modal: true
        parent: Overlay.overlay
        anchors.centerIn: parent
        standardButtons: Dialog.Ok | Dialog.Cancel
        Label { text: "Clients using this key are refused from the next second on. This cannot be undone." }
        onAccepted: page.dashboard.editor.revokeKey(keyId)
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.s3

        PageHeader {
            title: "Keys"
            Layout.fillWidth: true
            TextField {
                id: search
                placeholderText: "Search user, key, prefix, tier"
                Layout.preferredWidth: 260
                onTextChanged: page.filtered.search = text
                Accessible.name: "Search keys"
            }
            ComboBox {
                id: statusFilter
                model: ["all statuses", "active", "revoked", "user disabled", "no key"]
                onActivated: page.filtered.status = currentIndex === 0 ? "" : currentText
                Accessible.name: "Filter by status"
            }
            ComboBox {
                id: tierFilter
                model: ["all tiers"].concat(page.keys.tierNames)
                onActivated: page.filtered.tier = currentIndex === 0 ? "" : currentText
                Accessible.name: "Filter by tier"
            }
            Button {
                text: "Create key…"
                highlighted: true
                onClicked: page.openCreate("")
                Accessible.name: "Create a key"
            }
        }

        Label {
            visible: page.dashboard.editor.lastError !== ""
            text: "Not saved: " + page.dashboard.editor.lastError
            color: Theme.error
            Layout.fillWidth: true
            wrapMode: Text.WordWrap
            Accessible.role: Accessible.AlertMessage
            Accessible.name: text
        }

        // First run: no user and no key yet.
        Rectangle {
            visible: page.keys.loaded && page.keys.count === 0
            Layout.fillWidth: true
            Layout.preferredHeight: firstRun.implicitHeight + 2 * Theme.s5
            color: Theme.surface
            border.color: Theme.border
            radius: Theme.radius
            ColumnLayout {
                id: firstRun
                anchors.fill: parent
                anchors.margins: Theme.s5
                spacing: Theme.s3
                Label {
                    text: "Create your first key"
                    font.pixelSize: Theme.fontTitle
                    font.bold: true
                    color: Theme.text
                }
                Label {
                    text: "Clients authenticate to this gateway with API keys. Create one for yourself, "
                          + "then point any OpenAI or Anthropic client at " + page.dashboard.baseUrl + "."
                    wrapMode: Text.WordWrap
                    color: Theme.textMuted
                    Layout.fillWidth: true
                }
                Button {
                    text: "Create your first key"
                    highlighted: true
                    onClicked: page.openCreate("me")
                    Accessible.name: "Create your first key"
                }
                SnippetView {
                    Layout.fillWidth: true
                    dashboard: page.dashboard
                    key: ""
                }
            }
        }

        ListView {
            id: table
            objectName: "keysTable"
            visible: page.keys.count > 0
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: page.filtered
            contentWidth: page.tableWidth
            flickableDirection: Flickable.AutoFlickIfNeeded
            boundsBehavior: Flickable.StopAtBounds
            headerPositioning: ListView.OverlayHeader
            keyNavigationEnabled: true
            activeFocusOnTab: true
            ScrollBar.vertical: ScrollBar {}
            ScrollBar.horizontal: ScrollBar {}
            Accessible.role: Accessible.Table
            Accessible.name: "Users and keys, " + count + " rows"

            header: Rectangle {
                z: 2
                width: page.tableWidth
                height: 32
                color: Theme.surfaceAlt
                Row {
                    anchors.verticalCenter: parent.verticalCenter
                    x: Theme.s2
                    spacing: Theme.s2
                    ColumnHeader { width: 110; text: "User" }
                    ColumnHeader { width: 180; text: "Key"; tip: "Name and display prefix" }
                    ColumnHeader { width: 120; text: "Tier"; tip: "The key's own tier, else its user's" }
                    Repeater {
                        model: page.limitFields
                        ColumnHeader {
                            required property var modelData
                            width: 92
                            horizontalAlignment: Text.AlignRight
                            text: modelData.label
                            tip: modelData.name.replace(/_/g, " ") + ": the key's own value; "
                                 + "the placeholder is the effective limit"
                        }
                    }
                    ColumnHeader { width: 130; text: "This month"; horizontalAlignment: Text.AlignRight; tip: "Requests and tokens since the 1st (UTC)" }
                    ColumnHeader { width: 100; text: "Last used" }
                    ColumnHeader { width: 100; text: "Status" }
                }
            }

            delegate: Rectangle {
                id: row
                required property int index
                required property var keyId
                required property string prefix
                required property string keyName
                required property string userName
                required property string tier
                required property string ownTier
                required property string userTier
                required property string status
                required property string lastUsed
                required property var monthRequests
                required property var monthTokens
                required property var effective
                required property var overrides
                required property var userOverrides
                readonly property bool isKey: keyId > 0
                readonly property string owner: isKey ? "key " + prefix : "user " + userName
                width: page.tableWidth
                height: 40
                color: ListView.isCurrentItem ? Theme.selection
                                              : (index % 2 ? Theme.surfaceAlt : Theme.surface)

                Row {
                    anchors.verticalCenter: parent.verticalCenter
                    x: Theme.s2
                    spacing: Theme.s2
                    Label {
                        width: 110
                        text: row.userName
                        elide: Text.ElideRight
                        color: Theme.text
                        anchors.verticalCenter: parent.verticalCenter
                    }
                    Column {
                        width: 180
                        anchors.verticalCenter: parent.verticalCenter
                        Label {
                            text: row.isKey ? (row.keyName !== "" ? row.keyName : "(unnamed)") : "no key"
                            color: row.isKey ? Theme.text : Theme.textMuted
                            elide: Text.ElideRight
                            width: parent.width
                        }
                        Label {
                            visible: row.isKey
                            text: row.prefix + "…"
                            font.family: Theme.mono
                            font.pixelSize: Theme.fontSmall
                            color: Theme.textMuted
                        }
                    }
                    ComboBox {
                        width: 120
                        anchors.verticalCenter: parent.verticalCenter
                        // Keys: "(user: TIER)" follows the user's tier; users pick one.
                        readonly property var names: page.keys.tierNames
                        model: row.isKey ? ["(user: " + row.userTier + ")"].concat(names) : names
                        currentIndex: row.isKey ? (row.ownTier === "" ? 0 : names.indexOf(row.ownTier) + 1)
                                                : names.indexOf(row.userTier)
                        enabled: row.status !== "revoked"
                        Accessible.name: "Tier of " + row.owner
                        onActivated: (i) => {
                            if (row.isKey)
                                page.dashboard.editor.setKeyTier(String(row.keyId), i === 0 ? "" : names[i - 1])
                            else
                                page.dashboard.editor.setUserTier(row.userName, names[i])
                        }
                    }
                    Repeater {
                        model: page.limitFields
                        LimitField {
                            required property var modelData
                            anchors.verticalCenter: parent.verticalCenter
                            objectName: "limitField:" + (row.isKey ? row.prefix : row.userName) + ":" + modelData.name
                            editor: page.dashboard.editor
                            limit: modelData.name
                            owner: row.owner
                            own: row.isKey ? row.overrides[modelData.name] : row.userOverrides[modelData.name]
                            effective: row.isKey ? row.effective[modelData.name] : 0
                            enabled: row.status !== "revoked"
                            save: (text) => row.isKey
                                  ? page.dashboard.editor.setKeyLimit(String(row.keyId), modelData.name, text)
                                  : page.dashboard.editor.setUserLimit(row.userName, modelData.name, text)
                        }
                    }
                    Label {
                        width: 130
                        horizontalAlignment: Text.AlignRight
                        anchors.verticalCenter: parent.verticalCenter
                        text: row.isKey ? Fmt.count(row.monthRequests) + " req · " + Fmt.count(row.monthTokens) + " tok" : ""
                        color: Theme.text
                    }
                    Label {
                        width: 100
                        anchors.verticalCenter: parent.verticalCenter
                        text: row.isKey ? Fmt.isoTime(row.lastUsed) : ""
                        color: Theme.textMuted
                    }
                    StatusBadge {
                        width: 100
                        anchors.verticalCenter: parent.verticalCenter
                        status: row.status
                    }
                    Button {
                        visible: row.isKey && row.status === "active"
                        anchors.verticalCenter: parent.verticalCenter
                        text: "Revoke"
                        flat: true
                        Accessible.name: "Revoke " + row.owner
                        onClicked: {
                            revokeDialog.keyId = String(row.keyId)
                            revokeDialog.label = row.owner
                            revokeDialog.open()
                        }
                    }
                    Button {
                        visible: !row.isKey
                        anchors.verticalCenter: parent.verticalCenter
                        text: "Add key"
                        flat: true
                        Accessible.name: "Create a key for " + row.userName
                        onClicked: page.openCreate(row.userName)
                    }
                }
                MouseArea {
                    anchors.fill: parent
                    z: -1
                    onClicked: table.currentIndex = row.index
                }
            }
        }

        Label {
            visible: page.keys.count > 0 && page.filtered.count === 0
            text: "No key matches the search and filters."
            color: Theme.textMuted
        }
    }
}

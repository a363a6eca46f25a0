import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Window
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
        { name: "monthly_requests", label: "req/mo" },
        { name: "monthly_tokens", label: "tok/mo" },
        { name: "concurrent_requests", label: "concurrent" }
    ]
    // Column widths: everything fits a 1280 px window (1052 px for the page); a wider window
    // gives the key names the room, a narrower one scrolls sideways.
    readonly property int wUser: 106
    readonly property int wTier: 112
    readonly property int limitColumns: 4
    readonly property int wLimit: 70
    readonly property int wLimits: limitColumns * wLimit + (limitColumns - 1) * Theme.s1
    readonly property int wUsage: 96
    readonly property int wLastUsed: 84
    readonly property int wStatus: 92
    readonly property int wActions: 32
    readonly property int wKeyMin: 140
    readonly property int minTableWidth: 2 * Theme.s2 + 8 * Theme.s2 + wUser + wKeyMin + wTier + wLimits
                                         + wUsage + wLastUsed + wStatus + wActions
    readonly property int tableWidth: Math.max(minTableWidth, table.width)
    readonly property int wKey: wKeyMin + tableWidth - minTableWidth
    // While the focus is in the table or a popup (an editor, the tier list, a row's menu),
    // refreshed figures do not move rows: an edit always lands on the row it was begun on.
    readonly property Item focusItem: Window.activeFocusItem
    function isIn(item, ancestor) {
        for (let i = item; i; i = i.parent) {
            if (i === ancestor)
                return true
        }
        return false
    }
    Binding {
        target: page.filtered
        property: "holdOrder"
        value: page.isIn(page.focusItem, table) || page.isIn(page.focusItem, Overlay.overlay)
    }
    property string firstKey: ""
    readonly property alias userDialog: userDialog

    function openCreate(userName) { createDialog.openFor(userName) }
    // The user's name, email, tier and own limits (users with keys have no row of their own).
    function editUser(name, email, tier, overrides) {
        userDialog.openFor(name, email, tier || "", overrides || ({}))
    }
    // One menu for all rows, holding what it acts on from the moment it opens.
    function openRowMenu(button, canRevoke, keyId, owner, userName, userEmail, userTier,
                         userOverrides) {
        rowMenu.canRevoke = canRevoke
        rowMenu.keyId = keyId
        rowMenu.owner = owner
        rowMenu.userName = userName
        rowMenu.userEmail = userEmail
        rowMenu.userTier = userTier
        rowMenu.userOverrides = userOverrides
        const at = button.mapToItem(page, 0, button.height)
        rowMenu.x = at.x + button.width - rowMenu.width
        rowMenu.y = at.y
        rowMenu.open()
    }

    UserDialog {
        id: userDialog
        objectName: "userDialog"
        dashboard: page.dashboard
        tierNames: page.keys.tierNames
        limitFields: page.limitFields
        parent: Overlay.overlay
    }
    Menu {
        id: rowMenu
        property bool canRevoke
        property string keyId
        property string owner
        property string userName
        property string userEmail
        property string userTier
        property var userOverrides: ({})
        MenuItem {
            text: "Edit user " + rowMenu.userName + " (tier, limits)…"
            onTriggered: page.editUser(rowMenu.userName, rowMenu.userEmail, rowMenu.userTier,
                                       rowMenu.userOverrides)
        }
        MenuItem {
            text: "Add a key for " + rowMenu.userName + "…"
            onTriggered: page.openCreate(rowMenu.userName)
        }
        MenuItem {
            text: "Revoke " + rowMenu.owner + "…"
            enabled: rowMenu.canRevoke
            onTriggered: {
                revokeDialog.keyId = rowMenu.keyId
                revokeDialog.label = rowMenu.owner
                revokeDialog.open()
            }
        }
    }

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
                objectName: "keysSearch"
                placeholderText: "Search user, key, prefix, tier"
                Layout.preferredWidth: 260
                onTextChanged: page.filtered.search = text
                Accessible.name: "Search keys"
            }
            ComboBox {
                id: statusFilter
                objectName: "statusFilter"
                model: ["all statuses", "active", "revoked", "user disabled", "no key"]
                onActivated: page.filtered.status = currentIndex === 0 ? "" : currentText
                Accessible.name: "Filter by status"
            }
            ComboBox {
                id: tierFilter
                objectName: "tierFilter"
                model: ["all tiers"].concat(page.keys.tierNames)
                onActivated: page.filtered.tier = currentIndex === 0 ? "" : currentText
                Accessible.name: "Filter by tier"
            }
            Button {
                objectName: "createKeyButton"
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

        // Column captions, outside the list so Tab reaches them before the rows; they follow
        // the list when it scrolls sideways (only in windows narrower than the table).
        Rectangle {
            id: headerBar
            visible: table.visible
            Layout.fillWidth: true
            Layout.preferredHeight: 44
            Layout.bottomMargin: -Theme.s3  // the captions sit on the table
            color: Theme.surfaceAlt
            clip: true
            Row {
                x: Theme.s2 - table.contentX
                height: parent.height
                spacing: Theme.s2
                ColumnHeader {
                    width: page.wUser; anchors.verticalCenter: parent.verticalCenter
                    title: "User"; sortModel: page.filtered; sortKey: "user"
                    tip: "Click a user to edit its name and email"
                }
                Column {
                    width: page.wKey; anchors.verticalCenter: parent.verticalCenter
                    ColumnHeader { width: parent.width; title: "Key"; spoken: "key name"; sortModel: page.filtered; sortKey: "keyName" }
                    ColumnHeader { width: parent.width; title: "prefix"; spoken: "key prefix"; sortModel: page.filtered; sortKey: "prefix"; tip: "The key's display prefix" }
                }
                ColumnHeader {
                    width: page.wTier; anchors.verticalCenter: parent.verticalCenter
                    title: "Tier"; sortModel: page.filtered; sortKey: "tier"
                    tip: "The key's own tier, else its user's"
                }
                Grid {
                    width: page.wLimits; anchors.verticalCenter: parent.verticalCenter
                    columns: page.limitColumns
                    columnSpacing: Theme.s1
                    Repeater {
                        model: page.limitFields
                        ColumnHeader {
                            required property var modelData
                            width: page.wLimit
                            horizontalAlignment: Text.AlignRight
                            title: modelData.label
                            spoken: modelData.name.replace(/_/g, " ")
                            sortModel: page.filtered
                            sortKey: modelData.name
                            tip: modelData.name.replace(/_/g, " ") + ": the field shows the key's own value, "
                                 + "the placeholder the effective limit. Sorting uses the effective limit; "
                                 + "unlimited sorts as the largest."
                        }
                    }
                }
                ColumnHeader {
                    width: page.wUsage; anchors.verticalCenter: parent.verticalCenter
                    horizontalAlignment: Text.AlignRight
                    title: "This month"; spoken: "usage this month"; sortModel: page.filtered; sortKey: "usage"
                    tip: "Requests and tokens since the 1st (UTC)"
                }
                ColumnHeader {
                    width: page.wLastUsed; anchors.verticalCenter: parent.verticalCenter
                    title: "Last used"; sortModel: page.filtered; sortKey: "lastUsed"
                }
                ColumnHeader {
                    width: page.wStatus; anchors.verticalCenter: parent.verticalCenter
                    title: "Status"; sortModel: page.filtered; sortKey: "status"
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
            keyNavigationEnabled: true
            activeFocusOnTab: true
            ScrollBar.vertical: ScrollBar {}
            // Only in windows narrower than the table (below 1280 px).
            ScrollBar.horizontal: ScrollBar { policy: table.contentWidth > table.width ? ScrollBar.AsNeeded : ScrollBar.AlwaysOff }
            Accessible.role: Accessible.Table
            Accessible.name: "Users and keys, " + count + " rows"

            delegate: Rectangle {
                id: row
                required property int index
                required property var keyId
                required property string prefix
                required property string keyName
                required property string userName
                required property string userEmail
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
                height: 60
                color: ListView.isCurrentItem ? Theme.selection
                                              : (index % 2 ? Theme.surfaceAlt : Theme.surface)

                Row {
                    anchors.verticalCenter: parent.verticalCenter
                    x: Theme.s2
                    spacing: Theme.s2
                    // The user: name and email; a click edits them.
                    AbstractButton {
                        id: userButton
                        objectName: "userButton:" + (row.isKey ? row.prefix : row.userName)
                        width: page.wUser
                        height: 44
                        anchors.verticalCenter: parent.verticalCenter
                        hoverEnabled: true
                        Accessible.role: Accessible.Button
                        Accessible.name: "Edit user " + row.userName
                        Accessible.description: row.userEmail !== "" ? row.userEmail : "no email"
                        onClicked: page.editUser(row.userName, row.userEmail, row.userTier,
                                                 row.userOverrides)
                        ToolTip.visible: hovered
                        ToolTip.delay: 600
                        ToolTip.text: row.userName + (row.userEmail !== "" ? " <" + row.userEmail + ">" : "")
                                      + " · click to edit the user: name, email, tier and limits"
                        background: Rectangle {
                            radius: 3
                            color: userButton.hovered ? Theme.selection : "transparent"
                            border.width: userButton.activeFocus ? 1 : 0
                            border.color: Theme.accent
                        }
                        contentItem: Column {
                            topPadding: 4
                            leftPadding: 2
                            Label {
                                width: userButton.width - 4
                                text: row.userName
                                elide: Text.ElideRight
                                color: Theme.text
                            }
                            Label {
                                width: userButton.width - 4
                                text: row.userEmail !== "" ? row.userEmail : "no email"
                                elide: Text.ElideRight
                                font.pixelSize: Theme.fontSmall
                                color: Theme.textMuted
                            }
                        }
                    }
                    Column {
                        width: page.wKey
                        anchors.verticalCenter: parent.verticalCenter
                        Label {
                            id: keyLabel
                            text: row.isKey ? (row.keyName !== "" ? row.keyName : "(unnamed)") : "no key"
                            color: row.isKey ? Theme.text : Theme.textMuted
                            elide: Text.ElideRight
                            width: parent.width
                            HoverHandler { id: keyHover }
                            ToolTip.visible: keyHover.hovered && keyLabel.truncated
                            ToolTip.text: text
                        }
                        Label {
                            visible: row.isKey
                            text: row.prefix + "…"
                            font.family: Theme.mono
                            font.pixelSize: Theme.fontSmall
                            color: Theme.textMuted
                            elide: Text.ElideRight
                            width: parent.width
                        }
                    }
                    ComboBox {
                        width: page.wTier
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
                    // The seven limits in two lines, in the order of the captions above.
                    Grid {
                        width: page.wLimits
                        anchors.verticalCenter: parent.verticalCenter
                        columns: page.limitColumns
                        columnSpacing: Theme.s1
                        rowSpacing: Theme.s1
                        Repeater {
                            model: page.limitFields
                            LimitField {
                                required property var modelData
                                objectName: "limitField:" + (row.isKey ? row.prefix : row.userName) + ":" + modelData.name
                                width: page.wLimit
                                height: 24
                                leftPadding: Theme.s1
                                rightPadding: Theme.s1
                                topPadding: 0
                                bottomPadding: 0
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
                    }
                    Column {
                        width: page.wUsage
                        anchors.verticalCenter: parent.verticalCenter
                        visible: row.isKey
                        Label {
                            width: parent.width
                            horizontalAlignment: Text.AlignRight
                            text: Fmt.count(row.monthRequests) + " req"
                            color: Theme.text
                            elide: Text.ElideLeft
                        }
                        Label {
                            width: parent.width
                            horizontalAlignment: Text.AlignRight
                            text: Fmt.count(row.monthTokens) + " tok"
                            color: Theme.textMuted
                            font.pixelSize: Theme.fontSmall
                            elide: Text.ElideLeft
                        }
                    }
                    Item { width: page.wUsage; height: 1; visible: !row.isKey }
                    Label {
                        width: page.wLastUsed
                        anchors.verticalCenter: parent.verticalCenter
                        text: row.isKey ? Fmt.isoTime(row.lastUsed) : ""
                        color: Theme.textMuted
                        wrapMode: Text.WordWrap
                        maximumLineCount: 2
                    }
                    StatusBadge {
                        width: page.wStatus
                        anchors.verticalCenter: parent.verticalCenter
                        status: row.status
                    }
                    ToolButton {
                        objectName: "rowActions:" + (row.isKey ? row.prefix : row.userName)
                        width: page.wActions
                        anchors.verticalCenter: parent.verticalCenter
                        text: "⋯"
                        Accessible.name: "Actions for " + row.owner
                        onClicked: page.openRowMenu(this, row.isKey && row.status === "active", String(row.keyId),
                                                    row.owner, row.userName, row.userEmail,
                                                    row.userTier, row.userOverrides)
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

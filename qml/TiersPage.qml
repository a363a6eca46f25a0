import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Tiers: each tier's own limits (empty = the per-principal default), edited inline, and how
// many keys are on it.
Item {
    id: page
    required property Dashboard dashboard
    readonly property var keys: dashboard.keys
    property int pendingTier: -1
    readonly property var limitFields: [
        { name: "requests_per_second", label: "req/s" },
        { name: "burst", label: "burst" },
        { name: "requests_per_minute", label: "req/min" },
        { name: "tokens_per_minute", label: "tok/min" },
        { name: "monthly_requests", label: "req/month" },
        { name: "monthly_tokens", label: "tok/month" },
        { name: "concurrent_requests", label: "concurrent" }
    ]

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.s3
        PageHeader { title: "Tiers"; Layout.fillWidth: true }
        Label {
            text: "A key's limits come from its own values, else its tier's, else the built-in key "
                  + "defaults. Empty means inherit, 0 means unlimited. Edits apply on the running "
                  + "gateway within a second."
            color: Theme.textMuted
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
        }
        RowLayout {
            spacing: Theme.s2
            TextField {
                id: newTierName
                objectName: "newTierName"
                placeholderText: "New tier name"
                Layout.preferredWidth: 220
                Accessible.name: "Name of a new tier"
                onAccepted: createTierButton.clicked()
            }
            Button {
                id: createTierButton
                objectName: "createTier"
                text: "Create tier"
                enabled: newTierName.text.trim() !== "" && !page.dashboard.editor.busy
                Accessible.name: "Create the tier " + newTierName.text.trim()
                ToolTip.visible: hovered
                ToolTip.text: "Every limit inherits until you set it in the new row"
                onClicked: {
                    if (!enabled)
                        return
                    page.pendingTier = page.dashboard.editor.createTier(newTierName.text,
                                                                        page.keys.tierNames)
                }
            }
        }
        Connections {
            target: page.dashboard.editor
            function onFinished(ticket, ok, message) {
                if (ticket === page.pendingTier && ok)
                    newTierName.text = ""
                if (ticket === page.pendingTier)
                    page.pendingTier = -1
            }
        }
        Label {
            visible: page.dashboard.editor.lastError !== ""
            text: "Not saved: " + page.dashboard.editor.lastError
            color: Theme.error
            Layout.fillWidth: true
            wrapMode: Text.WordWrap
        }
        ListView {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: page.dashboard.tiers
            keyNavigationEnabled: true
            activeFocusOnTab: true
            headerPositioning: ListView.OverlayHeader
            Accessible.role: Accessible.Table
            Accessible.name: "Tiers, " + count + " rows"
            header: Rectangle {
                z: 2
                width: list.width
                height: 32
                color: Theme.surfaceAlt
                Row {
                    x: Theme.s2
                    spacing: Theme.s2
                    anchors.verticalCenter: parent.verticalCenter
                    ColumnHeader { width: 140; text: "Tier" }
                    ColumnHeader { width: 70; text: "Keys"; horizontalAlignment: Text.AlignRight; tip: "Keys whose effective tier this is" }
                    Repeater {
                        model: page.limitFields
                        ColumnHeader {
                            required property var modelData
                            width: 92
                            horizontalAlignment: Text.AlignRight
                            text: modelData.label
                            tip: modelData.name.replace(/_/g, " ")
                        }
                    }
                    ColumnHeader { width: 120; text: "Mode" }
                }
            }
            delegate: Rectangle {
                id: row
                required property int index
                required property string name
                required property var limits
                required property bool shadow
                required property var keyCount
                required property int modelLimitCount
                width: list.width
                height: 40
                color: ListView.isCurrentItem ? Theme.selection
                                              : (index % 2 ? Theme.surfaceAlt : Theme.surface)
                Row {
                    x: Theme.s2
                    spacing: Theme.s2
                    anchors.verticalCenter: parent.verticalCenter
                    Label { width: 140; text: row.name; font.bold: true; color: Theme.text; anchors.verticalCenter: parent.verticalCenter }
                    Label { width: 70; text: Fmt.count(row.keyCount); horizontalAlignment: Text.AlignRight; color: Theme.text; anchors.verticalCenter: parent.verticalCenter }
                    Repeater {
                        model: page.limitFields
                        LimitField {
                            required property var modelData
                            anchors.verticalCenter: parent.verticalCenter
                            objectName: "tierField:" + row.name + ":" + modelData.name
                            editor: page.dashboard.editor
                            limit: modelData.name
                            owner: "tier " + row.name
                            own: row.limits[modelData.name]
                            effective: 0
                            placeholderText: "default"
                            save: (text) => page.dashboard.editor.setTierLimit(row.name, modelData.name, text)
                        }
                    }
                    Switch {
                        objectName: "tierShadow:" + row.name
                        width: 120
                        anchors.verticalCenter: parent.verticalCenter
                        checked: row.shadow
                        text: row.shadow ? "shadow" : "enforced"
                        Accessible.name: "Shadow mode of tier " + row.name + ": " + text
                        ToolTip.visible: hovered
                        ToolTip.text: "Shadow: limits are evaluated and counted "
                                      + "(gateway_rate_limit_shadow_hits_total), never enforced"
                        onToggled: page.dashboard.editor.setTierShadow(row.name, checked)
                    }
                    Label {
                        visible: row.modelLimitCount > 0
                        anchors.verticalCenter: parent.verticalCenter
                        text: row.modelLimitCount + " model rules"
                        color: Theme.textMuted
                    }
                }
                MouseArea { anchors.fill: parent; z: -1; onClicked: list.currentIndex = row.index }
            }
        }
    }
}

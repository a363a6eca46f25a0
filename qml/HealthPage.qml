import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// One card per health component (status in colour and words, message, latency, last check),
// the overall status and "Check now".
Item {
    id: page
    required property Dashboard dashboard
    readonly property HealthModel health: dashboard.health

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.s3
        PageHeader {
            title: "Health"
            Layout.fillWidth: true
            StatusBadge { status: page.health.overall; label: "overall: " + (page.health.overall || "not checked yet") }
            Label { text: "checked " + Fmt.isoTime(page.health.checkedAt); color: Theme.textMuted }
            BusyIndicator { running: page.health.checking; visible: running; implicitWidth: 24; implicitHeight: 24 }
            Button {
                text: "Check now"
                enabled: !page.health.checking
                onClicked: page.dashboard.checkHealthNow()
                Accessible.name: "Run the health checks now"
            }
        }
        GridView {
            id: grid
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: page.health
            cellWidth: Math.max(280, width / Math.max(1, Math.floor(width / 300)))
            cellHeight: 150
            keyNavigationEnabled: true
            activeFocusOnTab: true
            Accessible.role: Accessible.List
            Accessible.name: "Health components, " + count
            delegate: Item {
                id: cell
                required property int index
                required property string name
                required property string type
                required property string status
                required property bool critical
                required property string message
                required property real latencyMs
                required property string checkedAt
                width: grid.cellWidth
                height: grid.cellHeight
                Rectangle {
                    anchors.fill: parent
                    anchors.margins: Theme.s2
                    radius: Theme.radius
                    color: Theme.surface
                    border.color: cell.GridView.isCurrentItem ? Theme.accent : Theme.border
                    border.width: cell.GridView.isCurrentItem ? 2 : 1
                    Rectangle {
                        width: 4
                        height: parent.height - 2 * Theme.radius
                        anchors.verticalCenter: parent.verticalCenter
                        color: Theme.statusColor(cell.status)
                    }
                    ColumnLayout {
                        anchors.fill: parent
                        anchors.margins: Theme.s4
                        spacing: Theme.s1
                        RowLayout {
                            Label { text: cell.name; font.bold: true; font.pixelSize: Theme.fontTitle; color: Theme.text; Layout.fillWidth: true; elide: Text.ElideRight }
                            StatusBadge { status: cell.status }
                        }
                        Label { text: cell.type + (cell.critical ? " · critical" : " · non-critical"); color: Theme.textMuted; font.pixelSize: Theme.fontSmall }
                        Label { text: cell.message; color: Theme.text; wrapMode: Text.WordWrap; Layout.fillWidth: true; maximumLineCount: 2; elide: Text.ElideRight }
                        Item { Layout.fillHeight: true }
                        Label {
                            text: "latency " + Fmt.latency(cell.latencyMs / 1000) + " · checked " + Fmt.isoTime(cell.checkedAt)
                            color: Theme.textMuted
                            font.pixelSize: Theme.fontSmall
                        }
                    }
                    Accessible.role: Accessible.StaticText
                    Accessible.name: cell.name + ": " + cell.status + ". " + cell.message
                }
            }
            Label {
                anchors.centerIn: parent
                visible: grid.count === 0
                text: "The first health round has not finished yet."
                color: Theme.textMuted
            }
        }
    }
}

import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Live tail of the latest /v1 requests, and the recent rate-limit violations and quota alerts.
Item {
    id: page
    required property Dashboard dashboard

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.s3
        PageHeader {
            title: "Traffic"
            Layout.fillWidth: true
            Label {
                text: Fmt.count(page.dashboard.traffic.count) + " recent requests · "
                      + Fmt.count(page.dashboard.traffic.rateLimitedCount) + " rate limited"
                color: Theme.textMuted
            }
        }
        SplitView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            orientation: Qt.Vertical

            ListView {
                id: tail
                objectName: "trafficTable"
                SplitView.fillHeight: true
                SplitView.minimumHeight: 120
                clip: true
                model: page.dashboard.traffic
                headerPositioning: ListView.OverlayHeader
                keyNavigationEnabled: true
                activeFocusOnTab: true
                ScrollBar.vertical: ScrollBar {}
                Accessible.role: Accessible.Table
                Accessible.name: "Recent requests, " + count
                header: Rectangle {
                    z: 2; width: tail.width; height: 28; color: Theme.surfaceAlt
                    Row {
                        x: Theme.s2; spacing: Theme.s2; anchors.verticalCenter: parent.verticalCenter
                        ColumnHeader { width: 80; title: "Time" }
                        ColumnHeader { width: 60; title: "Method" }
                        ColumnHeader { width: 260; title: "Path" }
                        ColumnHeader { width: 60; title: "Status" }
                        ColumnHeader { width: 90; title: "Latency"; horizontalAlignment: Text.AlignRight }
                        ColumnHeader { width: 120; title: "User" }
                        ColumnHeader { width: 160; title: "Key" }
                    }
                }
                delegate: Rectangle {
                    id: req
                    required property int index
                    required property real atMs
                    required property string method
                    required property string path
                    required property int status
                    required property real latencyMs
                    required property string user
                    required property string key
                    width: tail.width; height: 26
                    color: ListView.isCurrentItem ? Theme.selection : (index % 2 ? Theme.surfaceAlt : Theme.surface)
                    Accessible.role: Accessible.Row
                    Accessible.name: method + " " + path + " " + status
                    Row {
                        x: Theme.s2; spacing: Theme.s2; anchors.verticalCenter: parent.verticalCenter
                        Label { width: 80; text: Fmt.time(req.atMs); color: Theme.textMuted; font.family: Theme.mono }
                        Label { width: 60; text: req.method; color: Theme.text }
                        Label { width: 260; text: req.path; color: Theme.text; elide: Text.ElideMiddle }
                        Label { width: 60; text: req.status; color: Theme.httpStatusColor(req.status); font.bold: true }
                        Label { width: 90; text: Fmt.latency(req.latencyMs / 1000); color: Theme.text; horizontalAlignment: Text.AlignRight }
                        Label { width: 120; text: req.user; color: Theme.text; elide: Text.ElideRight }
                        Label { width: 160; text: req.key; color: Theme.textMuted; elide: Text.ElideRight }
                    }
                }
                Label {
                    objectName: "trafficEmpty"
                    anchors.centerIn: parent
                    visible: tail.count === 0
                    text: "Requests through " + page.dashboard.baseUrl + "/v1 will appear here as they finish."
                    color: Theme.textMuted
                }
            }

            ColumnLayout {
                SplitView.preferredHeight: 220
                SplitView.minimumHeight: 100
                spacing: Theme.s1
                Label {
                    text: "Rate-limit violations and quota alerts"
                    font.pixelSize: Theme.fontTitle
                    font.bold: true
                    color: Theme.text
                }
                ListView {
                    id: events
                    objectName: "limitEventsTable"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: page.dashboard.limitEvents
                    keyNavigationEnabled: true
                    activeFocusOnTab: true
                    ScrollBar.vertical: ScrollBar {}
                    Accessible.role: Accessible.Table
                    Accessible.name: "Violations and alerts, " + count
                    delegate: Rectangle {
                        id: ev
                        required property int index
                        required property string kind
                        required property string at
                        required property string who
                        required property string limitName
                        required property string detail
                        required property bool shadow
                        width: events.width; height: 26
                        color: ListView.isCurrentItem ? Theme.selection : (index % 2 ? Theme.surfaceAlt : Theme.surface)
                        Accessible.role: Accessible.Row
                        Accessible.name: kind + " " + who + " " + limitName + " " + detail
                        Row {
                            x: Theme.s2; spacing: Theme.s2; anchors.verticalCenter: parent.verticalCenter
                            Label { width: 120; text: Fmt.isoTime(ev.at); color: Theme.textMuted }
                            Label { width: 80; text: ev.kind; font.bold: true; color: ev.kind === "alert" ? Theme.unhealthy : Theme.degraded }
                            Label { width: 200; text: ev.who; color: Theme.text; elide: Text.ElideRight }
                            Label { width: 200; text: ev.limitName; color: Theme.text; elide: Text.ElideRight }
                            Label { text: ev.detail; color: Theme.textMuted }
                        }
                    }
                    Label {
                        objectName: "limitEventsEmpty"
                        anchors.centerIn: parent
                        visible: events.count === 0
                        text: "No request has been refused by a limit, and no quota alert was raised."
                        color: Theme.textMuted
                    }
                }
            }
        }
    }
}

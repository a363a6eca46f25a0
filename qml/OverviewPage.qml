import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sluice.Ui

// Live charts (one point a second) over 5, 15 or 60 minutes, and the headline numbers.
ScrollView {
    id: page
    required property Dashboard dashboard
    property alias rangeMinutes: rangeGroup.minutes
    readonly property OverviewModel model: dashboard.overview
    contentWidth: availableWidth
    clip: true

    ColumnLayout {
        width: page.availableWidth
        spacing: Theme.s4

        PageHeader {
            title: "Overview"
            Layout.fillWidth: true
            Label { text: "Time range"; color: Theme.textMuted }
            Row {
                id: rangeGroup
                property int minutes: page.model.rangeMinutes
                spacing: Theme.s1
                Repeater {
                    model: [5, 15, 60]
                    delegate: Button {
                        required property int modelData
                        text: modelData + " min"
                        checkable: true
                        checked: page.model.rangeMinutes === modelData
                        highlighted: checked  // the chosen range stands out in both themes
                        onClicked: page.model.rangeMinutes = modelData
                        Accessible.name: "Show the last " + modelData + " minutes"
                    }
                }
            }
        }

        GridLayout {
            Layout.fillWidth: true
            columns: Math.max(1, Math.min(5, Math.floor(page.availableWidth / 190)))
            columnSpacing: Theme.s3
            rowSpacing: Theme.s3
            StatCard {
                Layout.fillWidth: true
                Layout.fillHeight: true
                caption: "Requests today (UTC)"
                value: Fmt.count(page.model.requestsToday)
            }
            StatCard {
                Layout.fillWidth: true
                Layout.fillHeight: true
                caption: "Tokens today (UTC)"
                value: Fmt.count(page.model.tokensToday)
            }
            StatCard {
                Layout.fillWidth: true
                Layout.fillHeight: true
                caption: "Active keys"
                value: Fmt.count(page.model.activeKeys)
            }
            StatCard {
                Layout.fillWidth: true
                Layout.fillHeight: true
                caption: "Uptime"
                value: Fmt.uptime(page.model.uptimeSeconds)
                hint: "Version " + page.model.version
            }
            StatCard {
                Layout.fillWidth: true
                Layout.fillHeight: true
                caption: "Listening on"
                value: page.model.listen
                valueSize: Theme.fontTitle
                detail: "admin API " + page.model.adminListen
                hint: "Clients use " + page.dashboard.baseUrl + "/v1; the admin API (dashboard, "
                      + "CLI, /admin/v1) listens on " + page.model.adminListen
            }
        }

        GridLayout {
            Layout.fillWidth: true
            columns: page.availableWidth > 900 ? 2 : 1
            columnSpacing: Theme.s3
            rowSpacing: Theme.s3
            MetricChart {
                Layout.fillWidth: true
                Layout.preferredHeight: 240
                model: page.model
                title: "Requests per second"
                metrics: ["requests"]
                seriesNames: ["requests/s"]
                emptyText: "Requests per second will appear here once clients call " + page.dashboard.baseUrl + "/v1."
            }
            MetricChart {
                Layout.fillWidth: true
                Layout.preferredHeight: 240
                model: page.model
                title: "Rate limited (429) and errors per second"
                metrics: ["rate_limited", "errors"]
                seriesNames: ["429s/s", "errors/s"]
                emptyText: "Requests refused by a limit (429) and failed requests (4xx/5xx) will appear here."
            }
            MetricChart {
                Layout.fillWidth: true
                Layout.preferredHeight: 240
                model: page.model
                title: "Latency"
                metrics: ["p50_ms", "p95_ms"]
                seriesNames: ["p50", "p95"]
                latency: true
                emptyText: "The median and 95th percentile of request latency will appear here."
            }
            MetricChart {
                Layout.fillWidth: true
                Layout.preferredHeight: 240
                model: page.model
                title: "Tokens per minute"
                metrics: ["tokens"]
                seriesNames: ["tokens/min"]
                unit: "/min"
                emptyText: "Prompt and completion tokens per minute will appear here."
            }
        }
    }
}

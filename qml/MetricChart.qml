import QtQuick
import QtQuick.Controls
import QtCharts
import Sluice.Ui

// One chart of the Overview page: up to two metrics of the OverviewModel over its time range,
// redrawn when new points arrive; a tooltip names the value under the pointer, and an empty
// chart says what will appear.
ChartView {
    id: chart
    required property OverviewModel model
    property var metrics: ["requests"]
    property var seriesNames: ["requests/s"]
    property string unit: "/s"
    property bool latency: false
    property string emptyText: ""
    // The series by name for tests and the driver (series are not in the item tree).
    readonly property LineSeries firstSeries: first
    readonly property LineSeries secondSeries: second
    objectName: "metricChart:" + metrics[0]

    antialiasing: true
    legend.visible: metrics.length > 1
    legend.labelColor: Theme.text
    theme: Theme.dark ? ChartView.ChartThemeDark : ChartView.ChartThemeLight
    backgroundColor: Theme.surface
    titleColor: Theme.text
    margins { left: 4; right: 4; top: 4; bottom: 4 }
    Accessible.role: Accessible.Chart
    Accessible.name: seriesNames.join(" and ") + " chart" + (model.hasTraffic ? ", latest " + format(model.latest(metrics[0])) : ", no traffic yet")

    function format(v) {
        return latency ? Fmt.latency(v / 1000) : Fmt.rate(v, unit)  // latency series are in ms
    }
    function niceMax(v) {
        if (v <= 0)
            return 1
        const p = Math.pow(10, Math.floor(Math.log10(v)))
        for (const m of [1, 2, 5, 10]) {
            if (v <= m * p)
                return m * p
        }
        return 10 * p
    }
    function refresh() {
        model.fill(first, metrics[0])
        let top = model.maximum(metrics[0])
        if (metrics.length > 1) {
            model.fill(second, metrics[1])
            top = Math.max(top, model.maximum(metrics[1]))
        }
        yAxis.max = niceMax(top * 1.1)
        xAxis.min = new Date(model.rangeStartMs)
        xAxis.max = new Date(model.rangeEndMs)
    }
    function showTip(point, state, name) {
        if (!state) {
            tip.visible = false
            return
        }
        const pos = chart.mapToPosition(point, first)
        tip.x = pos.x + 8
        tip.y = pos.y - tip.height - 8
        tip.text = Fmt.time(point.x) + "  " + name + ": " + format(point.y)
        tip.visible = true
    }

    DateTimeAxis {
        id: xAxis
        format: "HH:mm:ss"
        tickCount: 4
        labelsColor: Theme.textMuted
        gridLineColor: Theme.border
    }
    ValueAxis {
        id: yAxis
        min: 0
        max: 1
        tickCount: 5
        // Ticks are quarters of a 1-2-5 maximum (0.25, 2.5, 7.5...): %g keeps their digits
        // without trailing zeros; large scales are whole numbers.
        labelFormat: (yAxis.max < 20 ? "%.3g" : "%.0f") + (chart.latency ? " ms" : "")
        labelsColor: Theme.textMuted
        gridLineColor: Theme.border
    }
    LineSeries {
        id: first
        objectName: "chart:" + chart.metrics[0]
        name: chart.seriesNames[0]
        axisX: xAxis
        axisY: yAxis
        width: 2
        color: Theme.accent
        onHovered: (point, state) => chart.showTip(point, state, name)
    }
    LineSeries {
        id: second
        objectName: chart.metrics.length > 1 ? "chart:" + chart.metrics[1] : ""
        name: chart.seriesNames.length > 1 ? chart.seriesNames[1] : ""
        visible: chart.metrics.length > 1
        axisX: xAxis
        axisY: yAxis
        width: 2
        color: Theme.degraded
        onHovered: (point, state) => chart.showTip(point, state, name)
    }
    Connections {
        target: chart.model
        function onPointsChanged() { chart.refresh() }
    }
    Component.onCompleted: refresh()

    ToolTip {
        id: tip
        visible: false
    }
    // On a plate of its own: over the grid lines and axis labels the text would be hard to read.
    Rectangle {
        anchors.centerIn: parent
        width: parent.width * 0.7
        height: emptyLabel.height + 2 * Theme.s2
        visible: !chart.model.hasTraffic
        radius: Theme.radius
        color: Theme.surface
        border.color: Theme.border
        Label {
            id: emptyLabel
            anchors.centerIn: parent
            width: parent.width - 2 * Theme.s3
            text: chart.emptyText
            wrapMode: Text.WordWrap
            horizontalAlignment: Text.AlignHCenter
            color: Theme.textMuted
            font.pixelSize: Theme.fontBody
        }
    }
}

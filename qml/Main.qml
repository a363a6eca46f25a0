import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Window
import Sluice.Ui

// The dashboard window: a page list on the left (Ctrl+1..5, arrow keys), the page on the
// right, connection and health in the footer. Geometry, last page and theme are remembered.
ApplicationWindow {
    id: window
    required property Dashboard dashboard
    required property DashboardSettings settings
    property bool trayAvailable: false
    property string currentPage: settings.lastPage
    readonly property var pages: [
        { key: "overview", title: "Overview" },
        { key: "keys", title: "Keys" },
        { key: "tiers", title: "Tiers" },
        { key: "health", title: "Health" },
        { key: "traffic", title: "Traffic" }
    ]
    readonly property int pageIndex: Math.max(0, pages.findIndex(p => p.key === currentPage))

    width: 1280
    height: 820
    minimumWidth: 800
    minimumHeight: 560
    visible: true
    title: "Sluice — " + dashboard.baseUrl + (dashboard.remote ? " (remote)" : "")
    color: Theme.bg

    SystemPalette { id: system }
    Binding {
        target: Theme
        property: "dark"
        value: window.settings.theme === "dark"
               || (window.settings.theme === "system" && window.settings.isDarkColor(system.window))
    }
    palette.window: Theme.bg
    palette.windowText: Theme.text
    palette.base: Theme.surface
    palette.alternateBase: Theme.surfaceAlt
    palette.text: Theme.text
    palette.button: Theme.surfaceAlt
    palette.buttonText: Theme.text
    palette.highlight: Theme.accent
    palette.highlightedText: "#ffffff"
    palette.placeholderText: Theme.textMuted
    palette.mid: Theme.border
    palette.toolTipBase: Theme.surface
    palette.toolTipText: Theme.text
    font.pixelSize: Theme.fontBody

    Component.onCompleted: {
        const g = settings.geometry
        if (g.width > 0 && g.height > 0) {
            x = g.x; y = g.y; width = g.width; height = g.height
        }
        dashboard.overview.rangeMinutes = settings.rangeMinutes
        pageList.forceActiveFocus()
    }
    onCurrentPageChanged: settings.lastPage = currentPage
    Connections {
        target: window.dashboard.overview
        function onRangeMinutesChanged() { window.settings.rangeMinutes = window.dashboard.overview.rangeMinutes }
    }
    onClosing: (close) => {
        settings.geometry = Qt.rect(x, y, width, height)
        if (trayAvailable && settings.closeToTray) {
            close.accepted = false
            window.hide()
        }
    }

    Repeater {
        model: window.pages
        Item {
            required property int index
            required property var modelData
            Shortcut {
                sequence: "Ctrl+" + (index + 1)
                onActivated: window.currentPage = modelData.key
            }
        }
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Rectangle {
            Layout.fillHeight: true
            Layout.preferredWidth: 180
            color: Theme.surface
            border.color: Theme.border
            ColumnLayout {
                anchors.fill: parent
                anchors.margins: Theme.s3
                spacing: Theme.s2
                Label {
                    text: "Sluice"
                    font.pixelSize: Theme.fontHeadline
                    font.bold: true
                    color: Theme.text
                }
                Label {
                    text: window.dashboard.baseUrl
                    color: Theme.textMuted
                    font.pixelSize: Theme.fontSmall
                    elide: Text.ElideRight
                    Layout.fillWidth: true
                }
                Label {
                    visible: window.dashboard.remote
                    text: "remote (admin API)"
                    color: Theme.textMuted
                    font.pixelSize: Theme.fontSmall
                    elide: Text.ElideRight
                    Layout.fillWidth: true
                }
                ListView {
                    id: pageList
                    objectName: "pageList"
                    Layout.fillWidth: true
                    Layout.preferredHeight: contentHeight
                    interactive: false
                    model: window.pages
                    currentIndex: window.pageIndex
                    keyNavigationEnabled: true
                    activeFocusOnTab: true
                    Accessible.role: Accessible.PageTabList
                    Accessible.name: "Pages"
                    onCurrentIndexChanged: if (currentIndex >= 0) window.currentPage = window.pages[currentIndex].key
                    delegate: ItemDelegate {
                        required property int index
                        required property var modelData
                        width: ListView.view.width
                        text: modelData.title
                        highlighted: ListView.isCurrentItem
                        Accessible.role: Accessible.PageTab
                        Accessible.name: modelData.title + " page"
                        onClicked: window.currentPage = modelData.key
                    }
                }
                Item { Layout.fillHeight: true }
                Label { text: "Theme"; color: Theme.textMuted; font.pixelSize: Theme.fontSmall }
                ComboBox {
                    Layout.fillWidth: true
                    model: ["system", "light", "dark"]
                    currentIndex: Math.max(0, model.indexOf(window.settings.theme))
                    onActivated: window.settings.theme = currentText
                    Accessible.name: "Colour theme"
                }
                CheckBox {
                    visible: window.trayAvailable
                    text: "Keep running in the tray when closed"
                    checked: window.settings.closeToTray
                    onToggled: window.settings.closeToTray = checked
                    Accessible.name: text
                }
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            Rectangle {
                visible: !window.dashboard.connected
                Layout.fillWidth: true
                Layout.preferredHeight: 32
                color: Theme.unhealthy
                Label {
                    anchors.centerIn: parent
                    color: "white"
                    text: "Cannot reach the gateway: " + window.dashboard.connectionMessage
                    Accessible.role: Accessible.AlertMessage
                    Accessible.name: text
                }
            }

            StackLayout {
                id: stack
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.margins: Theme.s5
                currentIndex: window.pageIndex
                OverviewPage { dashboard: window.dashboard }
                KeysPage { dashboard: window.dashboard }
                TiersPage { dashboard: window.dashboard }
                HealthPage { dashboard: window.dashboard }
                TrafficPage { dashboard: window.dashboard }
            }

            Rectangle {
                Layout.fillWidth: true
                Layout.preferredHeight: 28
                color: Theme.surface
                border.color: Theme.border
                RowLayout {
                    anchors.fill: parent
                    anchors.leftMargin: Theme.s3
                    anchors.rightMargin: Theme.s3
                    spacing: Theme.s4
                    StatusBadge {
                        status: window.dashboard.health.overall
                        label: "gateway " + (window.dashboard.health.overall || "starting")
                    }
                    Label {
                        text: "API " + window.dashboard.overview.listen + " · admin " + window.dashboard.overview.adminListen
                        color: Theme.textMuted
                        font.pixelSize: Theme.fontSmall
                    }
                    Item { Layout.fillWidth: true }
                    Label {
                        text: "Ctrl+1…5 switch pages"
                        color: Theme.textMuted
                        font.pixelSize: Theme.fontSmall
                    }
                }
            }
        }
    }
}

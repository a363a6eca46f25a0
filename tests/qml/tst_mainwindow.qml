import QtQuick
import QtTest
import Sluice.Dashboard
import Sluice.Ui

// The window's keyboard navigation: Ctrl+1…5 switch pages, the page list takes the focus first
// and its arrow keys move between pages.
Item {
    id: root
    width: 200
    height: 200

    DashboardSettings { id: settings }
    Component {
        id: mainWindow
        Main {}
    }

    TestCase {
        name: "MainWindow"
        when: windowShown

        function test_shortcutsAndPageList() {
            settings.lastPage = "overview"
            const win = createTemporaryObject(mainWindow, root,
                                              { dashboard: testDashboard, settings: settings })
            verify(win)
            win.requestActivate()
            tryVerify(() => win.active, 5000)
            compare(win.currentPage, "overview")
            keySequence("Ctrl+2")
            compare(win.currentPage, "keys")
            keySequence("Ctrl+5")
            compare(win.currentPage, "traffic")
            keySequence("Ctrl+3")
            compare(win.currentPage, "tiers")
            keySequence("Ctrl+4")
            compare(win.currentPage, "health")
            keySequence("Ctrl+1")
            compare(win.currentPage, "overview")
            compare(settings.lastPage, "overview")

            // The page list has the focus at start; Down and Up walk the pages.
            const list = findChild(win.contentItem, "pageList")
            verify(list)
            list.forceActiveFocus()
            keyClick(Qt.Key_Down)
            compare(win.currentPage, "keys")
            keyClick(Qt.Key_Down)
            compare(win.currentPage, "tiers")
            keyClick(Qt.Key_Up)
            compare(win.currentPage, "keys")
            // Tab leaves the list for the page's controls.
            keyClick(Qt.Key_Tab)
            verify(!list.activeFocus)
            win.close()
        }
    }
}

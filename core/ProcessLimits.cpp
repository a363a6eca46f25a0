#include "ProcessLimits.h"

#include "LogCategories.h"

#include <sys/resource.h>

namespace sluice {

long raiseFileDescriptorLimit()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        const rlim_t before = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            qCWarning(lcGateway) << "cannot raise the open file limit from" << qulonglong(before);
            return long(before);
        }
        qCDebug(lcGateway) << "open file limit raised from" << qulonglong(before) << "to"
                           << qulonglong(rl.rlim_cur);
    }
    return long(rl.rlim_cur);
}

}  // namespace sluice

using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // pidfd_open(2), Linux 5.3; glibc 2.36. The pidfd pins the struct pid: once the process is
    // reaped every use answers ESRCH, so a PID reused later can never be reached through it.
    [LibraryImport(Name, EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int pidfd_open_raw(int pid, uint flags);

    internal static SafePidfdHandle PidfdOpen(int pid)
    {
        long fd = SysResult.FromReturn("pidfd_open", pidfd_open_raw(pid, 0)).Check($"process {pid}");
        return new SafePidfdHandle((int)fd, pid);
    }
}

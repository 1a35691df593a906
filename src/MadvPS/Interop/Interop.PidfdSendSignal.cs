using System;
using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    internal const int SIGCONT = 18;
    internal const int SIGSTOP = 19;

    // pidfd_send_signal(2), Linux 5.1; glibc 2.36.
    [LibraryImport(Name, EntryPoint = "pidfd_send_signal", SetLastError = true)]
    private static partial int pidfd_send_signal_raw(SafePidfdHandle pidfd, int sig, IntPtr info, uint flags);

    /// <summary>Sends a signal (0 only checks that the process is alive) through the pidfd.</summary>
    internal static void PidfdSendSignal(SafePidfdHandle pidfd, int signal)
    {
        SysResult.FromReturn("pidfd_send_signal", pidfd_send_signal_raw(pidfd, signal, IntPtr.Zero, 0)).Check($"process {pidfd.ProcessId}");
    }
}

using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>
/// The capabilities the module asks about (include/uapi/linux/capability.h) and the one way it asks:
/// capget(2) of the calling thread. The thread's set, not the process's, because setfsuid(2)
/// changes the file-system capabilities (CAP_FOWNER among them) of one thread only, and
/// /proc/self/status shows the main thread's.
/// </summary>
internal static class Capabilities
{
    public const int Fowner = 3;
    public const int SysPtrace = 19;
    public const int SysAdmin = 21;
    public const int SysNice = 23;

    public static bool ThreadHas(int capability) => Libc.ThreadHasEffectiveCapability(capability);
}

using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    private const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    // capget(2) with pid 0: the calling thread's own sets (which setfsuid changes per thread,
    // unlike /proc/self/status, which shows the main thread).
    [LibraryImport(Name, EntryPoint = "capget", SetLastError = true)]
    private static unsafe partial int capget_raw(CapHeader* header, CapData* data);

    /// <summary>Whether the calling thread has the capability in its effective set.</summary>
    internal static unsafe bool ThreadHasEffectiveCapability(int capability)
    {
        CapHeader header = new() { Version = LINUX_CAPABILITY_VERSION_3, Pid = 0 };
        CapData* data = stackalloc CapData[2];
        SysResult.FromReturn("capget", capget_raw(&header, data)).Check();

        return (data[capability / 32].Effective & (1u << (capability % 32))) != 0;
    }
}

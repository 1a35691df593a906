using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>A pidfd. Descriptor 0 is valid, so only -1 is invalid.</summary>
public sealed class SafePidfdHandle : SafeHandleMinusOneIsInvalid
{
    public SafePidfdHandle() : base(ownsHandle: true) { }

    internal SafePidfdHandle(int fd, int processId) : base(ownsHandle: true)
    {
        SetHandle(fd);
        ProcessId = processId;
    }

    public int ProcessId { get; internal set; }

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}

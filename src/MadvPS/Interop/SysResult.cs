using System.Runtime.InteropServices;

namespace MadvPS.Interop;

/// <summary>
/// The one error contract of the interop layer: what a call returned, with its errno read right
/// after the call (before any other P/Invoke can overwrite it) and the call's name. A wrapper
/// whose callers all need the errno returns this; a wrapper whose callers would all throw checks
/// it with <see cref="Check"/> and returns the value. Either way a failure becomes a
/// <see cref="LinuxErrorException"/> in this one place.
/// </summary>
internal readonly record struct SysResult(string Syscall, long Value, int Errno)
{
    public bool Failed => Errno != 0;

    /// <summary>A call that returns -1 and sets errno on failure (most of them).</summary>
    public static SysResult FromReturn(string syscall, long returned) =>
        new(syscall, returned, returned == -1 ? Marshal.GetLastPInvokeError() : 0);

    /// <summary>A call that returns the error number itself (posix_fadvise).</summary>
    public static SysResult FromErrorNumber(string syscall, int errorNumber) => new(syscall, 0, errorNumber);

    /// <summary>The value, or a <see cref="LinuxErrorException"/> naming the call, the errno and <paramref name="detail"/>.</summary>
    public long Check(string? detail = null) => Failed ? throw new LinuxErrorException(Syscall, Errno, detail) : Value;
}

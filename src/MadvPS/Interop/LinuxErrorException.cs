using System;
using System.Runtime.InteropServices;

namespace MadvPS.Interop;

/// <summary>A failed system call: which call, the errno and its name.</summary>
public sealed class LinuxErrorException : Exception
{
    public LinuxErrorException(string syscall, int errno, string? detail = null)
        : base(Format(syscall, errno, detail))
    {
        Syscall = syscall;
        ErrorNumber = errno;
    }

    public string Syscall { get; }
    public int ErrorNumber { get; }
    public Errno Errno => (Errno)ErrorNumber;
    public string ErrorName => NameOf(ErrorNumber);

    /// <summary>EACCES, EFAULT… for the values the module knows, else "errno N".</summary>
    public static string NameOf(int errno) =>
        Enum.IsDefined(typeof(Errno), errno) ? ((Errno)errno).ToString() : $"errno {errno}";

    /// <summary>The C library's own text for an errno ("Operation not permitted").</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    private static string Format(string syscall, int errno, string? detail) =>
        detail is null
            ? $"{syscall} failed: {NameOf(errno)} ({Describe(errno)})."
            : $"{syscall} failed for {detail}: {NameOf(errno)} ({Describe(errno)}).";
}

using System;
using System.Text;

namespace MadvPS.Core;

internal enum ProcessAccessFailure
{
    /// <summary>No process has the PID (or it is a thread that is not a process).</summary>
    NotFound,
    /// <summary>The kernel refused access (ptrace access mode READ, or a missing capability).</summary>
    PermissionDenied,
    /// <summary>The process exited while it was being read or advised.</summary>
    Exited,
    /// <summary>The PID now belongs to another process, or the object was read on another host or boot.</summary>
    IdentityChanged,
    /// <summary>A kernel thread (PF_KTHREAD): no user address space to read or advise.</summary>
    KernelThread,
    /// <summary>Exited and not reaped by its parent: its address space is gone.</summary>
    Zombie,
    /// <summary>The object was read in another PID namespace, where its ProcessId names another process.</summary>
    OtherPidNamespace,
    /// <summary>A system call failed for a reason that is none of the above (Errno says which).</summary>
    SystemError,
}

/// <summary>What the module was doing to the process when it failed.</summary>
internal enum ProcessActivity
{
    /// <summary>Opening or holding it, nothing more specific.</summary>
    Unspecified,
    /// <summary>Reading its /proc files (smaps, maps, rollup).</summary>
    ReadingMappings,
    /// <summary>Measuring its accesses in clear_refs windows.</summary>
    Measuring,
    /// <summary>Opening or reading its pagemap.</summary>
    ReadingPages,
    /// <summary>Checking it before advice.</summary>
    Advising,
}

/// <summary>Which identity of an object read before did not match the process found now.</summary>
internal enum IdentityCheck
{
    None,
    /// <summary>Expected: the object's BootId (may be empty); found: this host's boot id.</summary>
    BootId,
    /// <summary>Expected and found: start times in clock ticks after boot.</summary>
    StartTime,
    /// <summary>Expected and found: the executable's identity (path, device, inode).</summary>
    Executable,
    /// <summary>Expected: the object's PID namespace inode; found: this session's.</summary>
    PidNamespace,
}

/// <summary>
/// A process the module cannot read or advise, and why, as data: the Commands layer words it
/// (Commands/FailureText.cs). <see cref="Message"/> is a technical summary for logs and debuggers.
/// </summary>
internal sealed class ProcessAccessException : Exception
{
    public ProcessAccessException(ProcessAccessFailure failure, int processId, Exception? inner = null)
        : base(null, inner)
    {
        Failure = failure;
        ProcessId = processId;
    }

    public ProcessAccessFailure Failure { get; }
    public int ProcessId { get; }

    /// <summary>What was being done when it failed: it decides what was (or was not) done before.</summary>
    public ProcessActivity Activity { get; init; }

    /// <summary>The process's name (comm, or the resolved name), when it was read.</summary>
    public string? ProcessName { get; init; }

    /// <summary>The file under /proc/PID that was refused (PermissionDenied).</summary>
    public string? File { get; init; }

    /// <summary>The parent that has not reaped a zombie.</summary>
    public int? ParentId { get; init; }

    /// <summary>For IdentityChanged and OtherPidNamespace: what was compared, the value expected and the value found.</summary>
    public IdentityCheck Mismatch { get; init; }
    public string? Expected { get; init; }
    public string? Found { get; init; }

    /// <summary>The host the object says it was read on (PSComputerName of remoting output), or null.</summary>
    public string? ReadOn { get; init; }

    /// <summary>Complete windows measured before an exit during a measurement.</summary>
    public int WindowCount { get; init; }

    /// <summary>The address a page read had reached when the process exited.</summary>
    public ulong? Address { get; init; }

    /// <summary>For PermissionDenied by the ptrace check: the caller's side of it, as it was when refused.</summary>
    public PtraceFacts? Ptrace { get; init; }

    /// <summary>The errno of a SystemError (from the inner LinuxErrorException), else 0.</summary>
    public int Errno => (InnerException as Interop.LinuxErrorException)?.ErrorNumber ?? 0;

    /// <summary>The system call that failed (from the inner LinuxErrorException), else null.</summary>
    public string? SystemCall => (InnerException as Interop.LinuxErrorException)?.Syscall;

    public override string Message
    {
        get
        {
            var text = new StringBuilder($"{Failure}: process {ProcessId}");
            if (ProcessName is not null) text.Append($" ({ProcessName})");
            if (Activity != ProcessActivity.Unspecified) text.Append($", {Activity}");
            if (File is not null) text.Append($", /proc/{ProcessId}/{File}");
            if (ParentId is int parent) text.Append($", parent {parent}");
            if (Mismatch != IdentityCheck.None) text.Append($", {Mismatch} expected '{Expected}' found '{Found}'");
            if (ReadOn is not null) text.Append($", read on {ReadOn}");
            if (WindowCount != 0) text.Append($", {WindowCount} window(s)");
            if (Address is ulong address) text.Append($", at 0x{address:x}");
            if (Ptrace is PtraceFacts ptrace) text.Append($", {ptrace}");
            if (SystemCall is string call) text.Append($", {call} {KernelError.NameOf(Errno)}");
            return text.Append('.').ToString();
        }
    }

    /// <summary>The process exited while its /proc files were read: what was read before may be incomplete.</summary>
    public static ProcessAccessException Exited(ProcessStat process, Exception? inner = null) =>
        new(ProcessAccessFailure.Exited, process.ProcessId, inner) { ProcessName = process.Command, Activity = ProcessActivity.ReadingMappings };

    /// <summary>The kernel refused to open a /proc file of the process.</summary>
    public static ProcessAccessException Denied(ProcessStat process, string file, Exception? inner = null) =>
        new(ProcessAccessFailure.PermissionDenied, process.ProcessId, inner) { File = file, Ptrace = KernelInfo.Ptrace };

    /// <summary>No process or thread has the ID (a thread ID is resolved before this is said).</summary>
    public static ProcessAccessException NotFound(int processId, Exception? inner = null) =>
        new(ProcessAccessFailure.NotFound, processId, inner);
}

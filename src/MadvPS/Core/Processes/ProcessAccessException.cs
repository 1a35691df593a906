using System;

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

/// <summary>A process the module cannot read or advise, and why.</summary>
internal sealed class ProcessAccessException : Exception
{
    public ProcessAccessException(ProcessAccessFailure failure, int processId, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        ProcessId = processId;
    }

    public ProcessAccessFailure Failure { get; }
    public int ProcessId { get; }

    /// <summary>The errno of a SystemError (from the inner LinuxErrorException), else 0.</summary>
    public int Errno => (InnerException as Interop.LinuxErrorException)?.ErrorNumber ?? 0;

    /// <summary>The process exited while it was read: what was read before may be incomplete.</summary>
    public static ProcessAccessException Exited(ProcessStat process, Exception? inner = null) =>
        new(ProcessAccessFailure.Exited, process.ProcessId,
            $"Process {process.ProcessId} ({process.Command}) exited while its mappings were read; what was read before may be incomplete.", inner);

    /// <summary>The kernel refused to open a /proc file of the process.</summary>
    public static ProcessAccessException Denied(ProcessStat process, string file, Exception? inner = null) =>
        new(ProcessAccessFailure.PermissionDenied, process.ProcessId,
            $"Access to /proc/{process.ProcessId}/{file} was denied: {KernelInfo.PtraceDenial(process.ProcessId)}.", inner);

    /// <summary>The one wording of "no such process" (a thread ID is resolved before this is said).</summary>
    public static ProcessAccessException NotFound(int processId, Exception? inner = null) =>
        new(ProcessAccessFailure.NotFound, processId, $"No process or thread has the ID {processId}. Check it with Get-Process, or 'ps -eL' for thread IDs.", inner);
}

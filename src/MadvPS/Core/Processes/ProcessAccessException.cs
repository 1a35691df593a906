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
}

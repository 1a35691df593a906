using System;
using System.IO;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// A /proc/PID directory held open. The descriptor is bound to the process, not to its PID: once
/// the process is reaped, every openat through it answers ESRCH, and so does a write to a file
/// opened through it (verified on 6.18). A PID that another process takes later can therefore
/// never be reached through it. A zombie still answers, with an empty address space.
/// </summary>
internal sealed class ProcDirectory : IDisposable
{
    private readonly SafeFileHandle _directory;

    private ProcDirectory(int processId, SafeFileHandle directory)
    {
        ProcessId = processId;
        _directory = directory;
    }

    public int ProcessId { get; }

    /// <summary>Opens /proc/PID; a NotFound error when no process has the PID.</summary>
    public static ProcDirectory Open(int processId)
    {
        try
        {
            return new ProcDirectory(processId, Libc.OpenAt(null, $"/proc/{processId}", Libc.O_RDONLY, $"/proc/{processId}"));
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
            throw ProcessAccessException.NotFound(processId, e);
        }
    }

    /// <summary>
    /// Opens the /proc directory of the process <paramref name="process"/> describes: a NotFound
    /// error when the PID is free now, an Exited one when another process (another start time) has it.
    /// </summary>
    public static ProcDirectory Open(ProcessStat process)
    {
        ProcDirectory directory = Open(process.ProcessId);
        string? text = directory.ReadText("stat");
        if (text is null || ProcessStat.Parse(process.ProcessId, text).StartTime != process.StartTime)
        {
            directory.Dispose();
            throw ProcessAccessException.Exited(process);
        }

        directory.StatAtOpen = text;
        return directory;
    }

    /// <summary>The text of stat read when the directory was opened against a listed process (else null), for readers that need its other fields.</summary>
    public string? StatAtOpen { get; private set; }

    /// <summary>
    /// A path that reaches this process's directory through the descriptor (/proc/self/fd/N), for
    /// the calls that take a path: it stays bound to the process as the descriptor is.
    /// </summary>
    public string Path => $"/proc/self/fd/{_directory.DangerousGetHandle()}";

    /// <summary>/proc/PID/stat read through the directory; null once the process is reaped.</summary>
    public ProcessStat? ReadStat() => ReadText("stat") is string text ? ProcessStat.Parse(ProcessId, text) : null;

    /// <summary>
    /// True while the process runs: not exiting (PF_EXITING), not a zombie, not reaped. A read of
    /// its address space that fails with ESRCH while stat still says R means it is exiting.
    /// </summary>
    public bool IsAlive() => ReadStat() is ProcessStat stat && !stat.IsZombie && !stat.IsExiting;

    /// <summary>Opens a file of the process for reading, unbuffered (the smaps parser reads large blocks itself).</summary>
    public FileStream OpenRead(string file) =>
        new(Libc.OpenAt(_directory, file, Libc.O_RDONLY, $"/proc/{ProcessId}/{file}"), FileAccess.Read, bufferSize: 0);

    /// <summary>
    /// Opens a file of the process for reading, with the failures every reader shares: access
    /// refused (ptrace access mode READ, checked at open) is PermissionDenied, a process reaped
    /// since the directory was opened is Exited.
    /// </summary>
    public FileStream OpenForReading(string file, ProcessStat process)
    {
        try
        {
            return OpenRead(file);
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            throw ProcessAccessException.Denied(process, file, e);
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            throw ProcessAccessException.Exited(process, e);
        }
    }

    /// <summary>
    /// Opens smaps_rollup; null for a kernel thread, which has no address space, so the open
    /// fails with ESRCH (checked on 6.18). A process that is exiting (its mm dropped by exit_mm before
    /// it is a zombie) fails the same way, and is Exited.
    /// </summary>
    public FileStream? OpenRollup(ProcessStat process)
    {
        try
        {
            return OpenForReading("smaps_rollup", process);
        }
        catch (ProcessAccessException e) when (e.Failure is ProcessAccessFailure.Exited && e.Errno == (int)Errno.ESRCH && IsAlive())
        {
            return null;
        }
    }

    /// <summary>The text of a small file of the process; null once the process is reaped.</summary>
    public string? ReadText(string file)
    {
        try
        {
            using FileStream stream = OpenRead(file);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            return null;
        }
        catch (IOException e) when (e.HResult is (int)Errno.ESRCH or (int)Errno.ENOENT)
        {
            return null;
        }
    }

    /// <summary>Opens a file of the process for reading as a bare descriptor (for ioctls); errors are the kernel's.</summary>
    public SafeFileHandle OpenHandle(string file) =>
        Libc.OpenAt(_directory, file, Libc.O_RDONLY, $"/proc/{ProcessId}/{file}");

    /// <summary>Opens a file of the process for writing; errors are the kernel's, as LinuxErrorException.</summary>
    public SafeFileHandle OpenWrite(string file) =>
        Libc.OpenAt(_directory, file, Libc.O_WRONLY, $"/proc/{ProcessId}/{file}");

    public void Dispose() => _directory.Dispose();
}

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
    public static ProcDirectory Open(int processId, string procRoot = "/proc")
    {
        try
        {
            return new ProcDirectory(processId, Libc.OpenAt(null, $"{procRoot}/{processId}", Libc.O_RDONLY, $"{procRoot}/{processId}"));
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
            throw ProcessAccessException.NotFound(processId, e);
        }
    }

    /// <summary>/proc/PID/stat read through the directory; null once the process is reaped.</summary>
    public ProcessStat? ReadStat()
    {
        string text;
        try
        {
            using FileStream stream = OpenRead("stat");
            using var reader = new StreamReader(stream);
            text = reader.ReadToEnd();
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            return null;
        }
        catch (IOException e) when (e.HResult is (int)Errno.ESRCH or (int)Errno.ENOENT)
        {
            return null;
        }

        return ProcessStat.Parse(ProcessId, text);
    }

    /// <summary>True while the process runs (not a zombie, not reaped).</summary>
    public bool IsAlive() => ReadStat() is ProcessStat stat && !stat.IsZombie;

    /// <summary>Opens a file of the process for reading, unbuffered (the smaps parser reads large blocks itself).</summary>
    public FileStream OpenRead(string file) =>
        new(Libc.OpenAt(_directory, file, Libc.O_RDONLY, $"/proc/{ProcessId}/{file}"), FileAccess.Read, bufferSize: 0);

    /// <summary>Opens a file of the process for writing; errors are the kernel's, as LinuxErrorException.</summary>
    public SafeFileHandle OpenWrite(string file) =>
        Libc.OpenAt(_directory, file, Libc.O_WRONLY, $"/proc/{ProcessId}/{file}");

    public void Dispose() => _directory.Dispose();
}

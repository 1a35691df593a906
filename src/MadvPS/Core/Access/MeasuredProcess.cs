using System;
using System.IO;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// One process under measurement: its /proc directory and clear_refs held open from the start
/// (so every clear and every read reaches this process and no other that takes its PID later),
/// and its figures so far.
/// </summary>
internal sealed class MeasuredProcess : IDisposable
{
    private readonly ProcDirectory _directory;
    private readonly SafeFileHandle _clearRefs;
    private readonly bool _fromRollup;

    private MeasuredProcess(ProcDirectory directory, SafeFileHandle clearRefs, ProcessStat stat, string name, MappingSelection selection, bool perMapping)
    {
        _directory = directory;
        _clearRefs = clearRefs;
        Stat = stat;
        Name = name;
        Selection = selection;
        BootId = ProcessIdentity.CurrentBootId;
        // smaps_rollup sums every mapping, which is what clear_refs 1 clears (less PFN maps and
        // hugetlb, which have no Referenced bytes): one short read instead of the whole smaps.
        _fromRollup = !perMapping && selection == MappingSelection.All;
        Tracker = new AccessTracker(perMapping);
    }

    public ProcessStat Stat { get; }
    public int ProcessId => Stat.ProcessId;
    public string Name { get; }
    public string BootId { get; }
    public MappingSelection Selection { get; }
    public AccessTracker Tracker { get; }

    /// <summary>The process's /proc directory, for other files read through it (pagemap, stat).</summary>
    internal ProcDirectory Directory => _directory;

    /// <summary>False when the last read found no address space at all (a kernel thread).</summary>
    public bool HasAddressSpace { get; private set; } = true;

    /// <summary>
    /// Opens the process for measurement and checks, before anything is cleared, that its smaps
    /// can be read (PTRACE_MODE_READ, checked by the kernel at open) and its clear_refs written.
    /// </summary>
    public static MeasuredProcess Open(int processId, MappingSelection selection, bool perMapping)
    {
        ProcDirectory directory = ProcDirectory.Open(processId);
        try
        {
            ProcessStat stat = directory.ReadStat()
                ?? throw ProcessAccessException.NotFound(processId);
            string name = ProcessNames.Resolve(processId, stat.Command);
            try
            {
                using FileStream probe = directory.OpenRead("smaps");
            }
            catch (LinuxErrorException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
            {
                throw new ProcessAccessException(ProcessAccessFailure.PermissionDenied, processId, e)
                {
                    Activity = ProcessActivity.Measuring,
                    ProcessName = name,
                    File = "smaps",
                    Ptrace = KernelInfo.Ptrace,
                };
            }
            catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
            {
                throw ProcessAccessException.NotFound(processId, e);
            }

            SafeFileHandle clearRefs = ClearRefs.Open(directory, name);
            return new MeasuredProcess(directory, clearRefs, stat, name, selection, perMapping);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Clears the referenced bits of the selected mappings: the start of a window.</summary>
    public void Clear()
    {
        try
        {
            ClearRefs.Write(_clearRefs, Selection, ProcessId);
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            throw Exited(e);
        }
    }

    /// <summary>Reads what the window referenced: the end of a window.</summary>
    public void Sample()
    {
        Tracker.BeginWindow();
        try
        {
            if (_fromRollup)
            {
                ReadRollup();
            }
            else
            {
                ReadMappings();
            }
        }
        catch (Exception e) when (e is LinuxErrorException or IOException or SmapsFormatException or ProcessAccessException { Failure: ProcessAccessFailure.Exited } && !_directory.IsAlive())
        {
            Tracker.AbandonWindow();
            throw Exited(e);
        }
        catch
        {
            Tracker.AbandonWindow();
            throw;
        }

        // seq_file ends cleanly at an entry boundary when the address space goes away (and a
        // zombie's smaps is empty): the window counts only if the process still runs.
        if (!_directory.IsAlive())
        {
            Tracker.AbandonWindow();
            throw Exited(null);
        }

        Tracker.EndWindow();
    }

    private void ReadMappings()
    {
        using FileStream stream = _directory.OpenRead("smaps");
        var parser = new SmapsParser(stream, expectVmFlags: true);
        bool any = false;
        while (parser.TryReadEntry(out SmapsEntry entry))
        {
            any = true;
            if (ClearRefs.Measures(Selection, entry.Kind, entry.VmFlags))
            {
                Tracker.Add(MappingReader.ToMapping(entry, Stat, Name, BootId));
            }
        }

        HasAddressSpace = any;
    }

    private void ReadRollup()
    {
        ProcessMemory? totals = MappingReader.ReadRollup(_directory, Stat, Name);
        HasAddressSpace = totals is not null;
        if (totals is not null)
        {
            Tracker.AddTotals(totals.Rss, totals.Sizes[(int)SmapsField.Referenced]);
        }
    }

    private ProcessAccessException Exited(Exception? inner) =>
        new(ProcessAccessFailure.Exited, ProcessId, inner) { Activity = ProcessActivity.Measuring, ProcessName = Name, WindowCount = Tracker.WindowCount };

    public void Dispose()
    {
        _clearRefs.Dispose();
        _directory.Dispose();
    }
}

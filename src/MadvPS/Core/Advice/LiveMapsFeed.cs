using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace MadvPS.Core;

/// <summary>
/// The VMAs of /proc/PID/maps, read and parsed in address order on a thread of its own and handed
/// over in blocks as they are parsed, so that the caller can check and send the ranges the first
/// VMAs cover while the kernel is still printing the rest.
/// </summary>
/// <remarks>
/// Each read() of maps takes mmap_lock and restarts at the address after the last VMA it printed
/// (m_start in fs/proc/task_mmu.c, Linux 6.19), so a VMA that changed between two reads can come
/// again with a start below the end of the VMAs already handed over (a merge). What lies below
/// that end was handed over already, so such a VMA is cut to the part above it: the VMAs stay
/// sorted and do not overlap, as <see cref="LiveMappings.Check(PlannedRange, IReadOnlyList{LiveVma})"/>
/// needs.
/// </remarks>
internal sealed class LiveMapsFeed : IDisposable
{
    // Small enough that the first call waits for little of the file, large enough that handing a
    // block over costs nothing beside parsing it.
    private const int BlockSize = 256;

    private readonly ProcessStat _process;
    private readonly BlockingCollection<LiveVma[]> _blocks = new(new ConcurrentQueue<LiveVma[]>());
    private readonly Thread _reader;
    private volatile bool _stop;
    private Exception? _error;

    /// <summary>Starts reading the maps of <paramref name="process"/> on a thread of its own.</summary>
    public LiveMapsFeed(ProcessStat process)
    {
        _process = process;
        _reader = new Thread(Read) { IsBackground = true, Name = "MadvPS maps" };
        _reader.Start();
    }

    /// <summary>The VMAs handed over so far, sorted by start and not overlapping.</summary>
    public List<LiveVma> Vmas { get; } = new();

    /// <summary>No VMA handed over later starts below this address.</summary>
    public ulong Frontier { get; private set; }

    /// <summary>The whole file was read: no VMA comes any more.</summary>
    public bool Done { get; private set; }

    /// <summary>
    /// Waits until the VMAs up to <paramref name="end"/> are handed over, or the file is read.
    /// </summary>
    /// <exception cref="ProcessAccessException">The maps could not be read, or the process exited while they were.</exception>
    /// <exception cref="SmapsFormatException">maps could not be parsed.</exception>
    public void WaitFor(ulong end)
    {
        while (!Done && Frontier < end)
        {
            if (!_blocks.TryTake(out LiveVma[]? block, Timeout.Infinite))
            {
                Done = true;
                Frontier = ulong.MaxValue;
                if (_error is not null)
                {
                    ExceptionDispatchInfo.Capture(_error).Throw();
                }

                return;
            }

            Append(block);
        }
    }

    private void Append(LiveVma[] block)
    {
        foreach (LiveVma vma in block)
        {
            if (vma.End <= Frontier)
            {
                continue;
            }

            if (vma.Start < Frontier)
            {
                ulong cut = Frontier - vma.Start;
                Vmas.Add(vma with { Start = Frontier, Offset = vma.Inode != 0 ? vma.Offset + cut : vma.Offset });
            }
            else
            {
                Vmas.Add(vma);
            }

            Frontier = vma.End;
        }
    }

    private void Read()
    {
        try
        {
            var block = new LiveVma[BlockSize];
            int count = 0;
            // This thread reads the file itself: no read-ahead thread beside it.
            foreach (SmapsEntry entry in MappingReader.ReadMapsEntries(_process, readAhead: false))
            {
                if (_stop)
                {
                    return;
                }

                block[count++] = new LiveVma(entry.Start, entry.End, entry.Permissions, entry.Offset, entry.Device, entry.Inode, entry.Path);
                if (count == block.Length)
                {
                    _blocks.Add(block);
                    block = new LiveVma[BlockSize];
                    count = 0;
                }
            }

            if (count > 0)
            {
                Array.Resize(ref block, count);
                _blocks.Add(block);
            }
        }
        catch (Exception e)
        {
            _error = e;
        }
        finally
        {
            _blocks.CompleteAdding();
        }
    }

    /// <summary>Stops the reader thread (it ends at the next VMA) and waits for it.</summary>
    public void Dispose()
    {
        _stop = true;
        _reader.Join();
        _blocks.Dispose();
    }
}

using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace MadvPS.Core;

/// <summary>
/// The VMAs of /proc/PID/maps, read and parsed in address order on a thread of its own and handed
/// over a few dozen at a time as they are parsed, so that the caller can check and send the
/// ranges the first VMAs cover while the kernel is still printing the rest.
/// </summary>
/// <remarks>
/// Each read() of maps locks the address space anew and finds its place again by address
/// (m_start in fs/proc/task_mmu.c), so a VMA that changed between two reads (a merge) can come
/// with a start below the end of the VMAs handed over before it. What lies below that end was
/// handed over already, so such a VMA is cut to the part above it: the VMAs stay sorted and do not
/// overlap, as <see cref="LiveMappings.Check(PlannedRange, ReadOnlySpan{LiveVma}, ref int)"/> needs.
/// </remarks>
internal sealed class LiveMapsFeed : IDisposable
{
    // VMAs are published in steps this small, so that a call waits for little more than its own
    // ranges; publishing is a write and a fence, and the caller is woken only when its end is reached.
    private const int PublishEvery = 64;

    private readonly ProcessStat _process;
    private readonly Thread _reader;
    private readonly object _gate = new();
    // Written by the reader thread only. When it is full it is copied into one twice as large,
    // which is published before any VMA is written past the old length: an array read after the
    // count holds every VMA that count published.
    private LiveVma[] _vmas = new LiveVma[1024];
    private int _published;
    private ulong _publishedEnd;
    private ulong _wanted = ulong.MaxValue;
    private volatile bool _finished;
    private volatile bool _stop;
    private Exception? _error;
    private int _count;

    /// <summary>Starts reading the maps of <paramref name="process"/> on a thread of its own.</summary>
    public LiveMapsFeed(ProcessStat process)
    {
        _process = process;
        _reader = new Thread(Read) { IsBackground = true, Name = "MadvPS maps" };
        _reader.Start();
    }

    /// <summary>The VMAs handed over so far, sorted by start and not overlapping; valid until the next <see cref="WaitFor"/>.</summary>
    public ReadOnlySpan<LiveVma> Vmas => new(Volatile.Read(ref _vmas), 0, _count);

    /// <summary>The number of VMAs handed over so far.</summary>
    public int Count => _count;

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
        while (!Done)
        {
            // _finished is read before the count, so that a finished feed is taken whole.
            bool finished = _finished;
            _count = Volatile.Read(ref _published);
            Frontier = _count == 0 ? 0 : Volatile.Read(ref _vmas)[_count - 1].End;
            if (finished)
            {
                Done = true;
                Frontier = ulong.MaxValue;
                if (_error is not null)
                {
                    ExceptionDispatchInfo.Capture(_error).Throw();
                }

                return;
            }

            if (Frontier >= end)
            {
                return;
            }

            lock (_gate)
            {
                Volatile.Write(ref _wanted, end);
                Interlocked.MemoryBarrier();
                if (!_finished && Volatile.Read(ref _publishedEnd) < end)
                {
                    // The reader pulses when it publishes past _wanted; the timeout is a floor
                    // under a missed pulse, not the way the wait ends.
                    Monitor.Wait(_gate, 50);
                }

                _wanted = ulong.MaxValue;
            }
        }
    }

    private void Read()
    {
        int count = 0;
        ulong frontier = 0;
        LiveVma[] vmas = _vmas;
        try
        {
            // This thread reads the file itself: no read-ahead thread beside it.
            foreach (SmapsEntry entry in MappingReader.ReadMapsEntries(_process, readAhead: false))
            {
                if (_stop)
                {
                    return;
                }

                if (entry.End <= frontier)
                {
                    continue;
                }

                if (count == vmas.Length)
                {
                    var grown = new LiveVma[vmas.Length * 2];
                    Array.Copy(vmas, grown, count);
                    vmas = grown;
                    Volatile.Write(ref _vmas, grown);
                }

                // A VMA that starts below the ones already handed over is cut to the part above them.
                ulong cut = entry.Start < frontier ? frontier - entry.Start : 0;
                vmas[count++] = new LiveVma(entry.Start + cut, entry.End, entry.Permissions, entry.Inode != 0 ? entry.Offset + cut : entry.Offset, entry.Device, entry.Inode, entry.Path);
                frontier = entry.End;
                if (count % PublishEvery == 0)
                {
                    Publish(count, frontier);
                }
            }
        }
        catch (Exception e)
        {
            _error = e;
        }
        finally
        {
            Volatile.Write(ref _published, count);
            _finished = true;
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Publish(int count, ulong end)
    {
        Volatile.Write(ref _published, count);
        Volatile.Write(ref _publishedEnd, end);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _wanted) <= end)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Stops the reader thread (it ends at the next VMA) and waits for it.</summary>
    public void Dispose()
    {
        _stop = true;
        _reader.Join();
    }
}

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace MadvPS.Core;

/// <summary>
/// Runs independent producers (one per process to read) a few at a time and hands their output
/// to one consumer in the order the producers were added, as if they had run one after the other.
/// </summary>
/// <remarks>
/// The window holds at most <c>width</c> producers. The first one added to an empty window is not
/// started: it runs on the consumer's own thread when its turn comes, writing straight to the
/// consumer, so one process alone costs what it cost before (no thread, no hand-off). Every later
/// one starts on the thread pool at once and writes into a bounded channel of its own, which the
/// consumer drains when its turn comes; a producer that is far ahead waits for room, so memory
/// stays bounded however large its output. A producer must not throw: it reports its errors as
/// items. Dispose cancels the producers still running and waits for them.
/// </remarks>
internal sealed class OrderedWindow<T> : IDisposable
{
    /// <summary>A producer: writes its items with the given function; told whether it runs alone.</summary>
    public delegate void Producer(Action<T> emit, bool alone, CancellationToken cancel);

    private readonly int _width;
    private readonly int _capacity;
    private readonly Queue<Slot> _slots = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<Task> _started = new();
    private int _running;

    /// <param name="width">How many producers run at once, the consumer's own included.</param>
    /// <param name="capacity">How many items a producer may write ahead of the consumer.</param>
    public OrderedWindow(int width, int capacity = 1024)
    {
        _width = Math.Max(1, width);
        _capacity = capacity;
    }

    /// <summary>Whether the window holds as many producers as may run at once.</summary>
    public bool IsFull => _slots.Count >= _width;

    public int Count => _slots.Count;

    /// <summary>Adds a producer behind the others; it starts now unless the window was empty.</summary>
    public void Add(Producer producer)
    {
        ObjectDisposedException.ThrowIf(_cancel.IsCancellationRequested, this);
        var slot = new Slot(producer);
        if (_slots.Count > 0 && _width > 1)
        {
            Start(slot);
        }

        _slots.Enqueue(slot);
    }

    /// <summary>Hands every item of the oldest producer to <paramref name="consume"/>, in order, then drops it.</summary>
    public void ConsumeOldest(Action<T> consume)
    {
        Slot slot = _slots.Dequeue();
        if (slot.Channel is null)
        {
            slot.Producer(consume, alone: _running == 0, _cancel.Token);
            return;
        }

        ChannelReader<T> reader = slot.Channel.Reader;
        while (true)
        {
            while (reader.TryRead(out T? item))
            {
                consume(item);
            }

            ValueTask<bool> more = reader.WaitToReadAsync();
            if (!(more.IsCompletedSuccessfully ? more.Result : more.AsTask().GetAwaiter().GetResult()))
            {
                break;
            }
        }

        if (slot.Error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(slot.Error);
        }
    }

    /// <summary>Consumes every producer in order.</summary>
    public void ConsumeAll(Action<T> consume)
    {
        while (_slots.Count > 0)
        {
            ConsumeOldest(consume);
        }
    }

    private void Start(Slot slot)
    {
        Channel<T> channel = Channel.CreateBounded<T>(new BoundedChannelOptions(_capacity) { SingleReader = true, SingleWriter = true });
        slot.Channel = channel;
        CancellationToken cancel = _cancel.Token;
        Interlocked.Increment(ref _running);
        _started.RemoveAll(task => task.IsCompleted);
        _started.Add(Task.Run(() =>
        {
            ChannelWriter<T> writer = channel.Writer;
            try
            {
                slot.Producer(item =>
                {
                    while (!writer.TryWrite(item))
                    {
                        ValueTask<bool> room = writer.WaitToWriteAsync(cancel);
                        if (!(room.IsCompletedSuccessfully ? room.Result : room.AsTask().GetAwaiter().GetResult()))
                        {
                            throw new OperationCanceledException(cancel);
                        }
                    }
                }, alone: false, cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // Disposed: nobody wants the rest.
            }
            catch (Exception e)
            {
                // A bug in the producer: the consumer throws it after the items before it.
                slot.Error = e;
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                writer.TryComplete();
            }
        }));
    }

    public void Dispose()
    {
        if (_cancel.IsCancellationRequested)
        {
            return;
        }

        _cancel.Cancel();
        Task.WaitAll(_started.ToArray());

        _slots.Clear();
        _cancel.Dispose();
    }

    private sealed class Slot
    {
        public Slot(Producer producer) => Producer = producer;

        public Producer Producer { get; }
        public Channel<T>? Channel { get; set; }
        public Exception? Error { get; set; }
    }
}

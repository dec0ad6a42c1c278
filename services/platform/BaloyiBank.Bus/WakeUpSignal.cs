using System.Diagnostics;
using BaloyiBank.ServiceDefaults;

namespace BaloyiBank.Bus;

/// <summary>
/// A worker's wake-up call from control messages. A message only says "look now": the worker reads what to do
/// from the Delta logs, so a lost, late or repeated message changes nothing, and one pending wake-up covers any
/// number of messages. Each worker derives its own type so that the container holds one signal per worker.
/// </summary>
public abstract class WakeUpSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _received;

    /// <summary>Wake-ups received (including redeliveries).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>
    /// The trace contexts of the messages that woke the worker since its last batch (sampled ones kept first): the
    /// batch span links them, so the trace goes on from the publisher's span through the consumer to the batch.
    /// </summary>
    public TraceContextBag Contexts { get; } = new();

    /// <summary>A wake-up from a message consumed under <paramref name="context"/> (the consumer span: MassTransit's, from the message headers).</summary>
    public void Wake(ActivityContext context)
    {
        Contexts.Add(context);
        Wake();
    }

    public void Wake()
    {
        Interlocked.Increment(ref _received);
        // Already awake: one pending wake-up covers any number of messages. Checked first because a steady stream
        // wakes far more often than the worker waits, and a thrown SemaphoreFullException per message costs CPU.
        if (_signal.CurrentCount > 0)
        {
            return;
        }

        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another thread released it between the check and here.
        }
    }

    /// <summary>Waits for a wake-up or the timeout (the worker's poll interval); true when woken.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose()
    {
        _signal.Dispose();
        GC.SuppressFinalize(this);
    }
}

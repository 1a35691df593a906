namespace MadvPS;

/// <summary>Why Invoke-MemoryReclaim stopped reclaiming a process.</summary>
public enum ReclaimStopReason
{
    /// <summary>-Duration ran out.</summary>
    Duration,
    /// <summary>A step found nothing cold left to advise: what was cold is out, the rest is hot or backed off from.</summary>
    Converged,
    /// <summary>The system's memory pressure over a step was above -MaxPressure.</summary>
    Pressure,
    /// <summary>The process exited during the run.</summary>
    Exited,
    /// <summary>The run was stopped (Ctrl+C) between calls.</summary>
    Stopped,
}

/// <summary>What one step of Invoke-MemoryReclaim did for one process.</summary>
public enum ReclaimAction
{
    /// <summary>Idle memory was advised.</summary>
    Advised,
    /// <summary>Cold memory was left for a later step: the byte budget of -MaxBytesPerSecond was spent.</summary>
    Waited,
    /// <summary>Too much of what the last step advised came back: nothing was advised this step.</summary>
    BackedOff,
    /// <summary>Nothing cold was left: the process is done.</summary>
    Converged,
    /// <summary>Memory pressure was above -MaxPressure: nothing was advised and the run ends.</summary>
    Pressure,
}

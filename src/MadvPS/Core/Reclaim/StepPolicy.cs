namespace MadvPS.Core;

/// <summary>What a step does with one process, given what it found; no I/O.</summary>
internal static class StepPolicy
{
    /// <summary>
    /// In this order: pressure above -MaxPressure ends the run (Pressure); nothing cold left is the
    /// end (Converged) once <see cref="ReclaimSettings.SettleSteps"/> steps have passed since the last
    /// advice, and a watch (Waited) before that; more than
    /// <see cref="ReclaimSettings.MaxRefaultShare"/> of the resident bytes the last advice took
    /// back again is a step without advice (BackedOff); otherwise the step advises what the budget
    /// allows (Advised, or Waited when the budget allows no chunk).
    /// </summary>
    /// <param name="lastAdvisedResident">The resident bytes of the chunks the process's previous step advised; 0 if it advised none.</param>
    public static ReclaimAction Decide(StepFindings findings, int step, int lastAdviceStep, long lastAdvisedResident, bool overPressure, ReclaimSettings settings)
    {
        if (overPressure)
        {
            return ReclaimAction.Pressure;
        }

        if (findings.Candidates.Count == 0)
        {
            // What was advised last may come back later than one window: watch a few steps first.
            return step - lastAdviceStep < settings.SettleSteps ? ReclaimAction.Waited : ReclaimAction.Converged;
        }

        if (lastAdvisedResident > 0 && findings.RefaultedBytes > settings.MaxRefaultShare * lastAdvisedResident)
        {
            return ReclaimAction.BackedOff;
        }

        return ReclaimAction.Advised;
    }
}

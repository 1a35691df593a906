# Runs the Pester suites in this fresh pwsh and writes the counts for build.ps1 to add up.
param(
    [Parameter(Mandatory)] [string] $PesterModule,
    [Parameter(Mandatory)] [string] $ResultFile,
    [Parameter(Mandatory)] [string] $Path
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterModule -Force
$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path -split ','
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Normal'
$configuration.Should.ErrorAction = 'Continue'
$result = Invoke-Pester -Configuration $configuration
# Containers that fail outside a test (a broken BeforeAll, a parse error) count as failures too,
# and so do tests that were discovered but not run (nothing filters them here) and inconclusive ones.
$failedBlocks = @($result.FailedBlocks).Count + @($result.FailedContainers).Count
$notRun = $result.NotRunCount + $result.InconclusiveCount
if ($notRun -gt 0) { Write-Warning "$($result.NotRunCount) test(s) discovered but not run, $($result.InconclusiveCount) inconclusive: counted as failed." }
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $failedBlocks + $notRun
    Skipped = $result.SkippedCount
} | ConvertTo-Json | Set-Content -Path $ResultFile

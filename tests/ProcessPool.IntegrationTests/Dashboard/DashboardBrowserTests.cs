using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace ProcessPools.IntegrationTests;

/// <summary>
/// The dashboard's page in a real headless Chromium (the system's browser and driver: Debian's chromium and
/// chromium-driver, installed by .ci/run), against the WebApiSample under a path base, with its real pools.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_page_shows_the_pools_live_finds_failures_and_its_buttons_act_under_a_path_base()
    {
        await using var app = await DashboardApp.StartAsync(pathBase: "/ops");
        using var browser = Browser.Start();
        var driver = browser.Driver;
        var status = await app.Http.GetFromJsonAsync<JsonElement>("pool/status");

        driver.Navigate().GoToUrl(new Uri(app.Root, "/ops/processpool/"));

        // Both pools, live, with the same workers as the app's own status.
        WaitUntil(driver, d => d.FindElement(By.Id("connection")).Text == "live");
        foreach (var pool in new[] { "default", "images" })
        {
            var expected = status.GetProperty(pool).GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("processId").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)).Order();
            WaitUntil(driver, d => PidsOn(d, pool).SequenceEqual(expected));
        }

        // A long job shows with its running time; a failing job shows in the failures with its remote stack, and search finds it.
        var slow = app.Http.PostAsync("demo/slow?ms=4000", null);
        WaitUntil(driver, d => d.FindElements(By.CssSelector("[data-pool='default'] li[data-job-name$='SlowAsync'] .job-time")).Any(e => e.Text.EndsWith(" s", StringComparison.Ordinal)));
        var marker = $"disk <i>full</i> {Guid.NewGuid():N}";
        await app.Http.PostAsync($"demo/fail?message={Uri.EscapeDataString(marker)}", null);
        WaitUntil(driver, d => d.FindElements(By.CssSelector("#failures li .message")).Any(e => e.Text == marker)); // markup shown as text
        Assert.Empty(driver.FindElements(By.CssSelector("#failures li .message i"))); // never parsed as HTML
        var search = driver.FindElement(By.Id("failure-search"));
        search.SendKeys(marker[^32..]);
        WaitUntil(driver, d => d.FindElement(By.Id("failure-count")).Text.StartsWith("1 of ", StringComparison.Ordinal)); // the search's answer is drawn
        Assert.Single(driver.FindElements(By.CssSelector("#failures li")));
        Click(driver, By.CssSelector("#failures li details summary"));
        WaitUntil(driver, d => d.FindElement(By.CssSelector("#failures li pre.stack")).Text.Contains("DemoJobs.FailAsync", StringComparison.Ordinal));

        // A redraw (here: another failure arrives, outside the search) leaves the stack its reader opened open.
        var counted = driver.FindElement(By.Id("failure-count")).Text;
        await app.Http.PostAsync("demo/fail?message=another", null);
        WaitUntil(driver, d => d.FindElement(By.Id("failure-count")).Text != counted);
        Assert.Contains("DemoJobs.FailAsync", driver.FindElement(By.CssSelector("#failures li pre.stack")).Text, StringComparison.Ordinal);
        search.Clear();
        search.SendKeys("no failure says this");
        WaitUntil(driver, d => d.FindElements(By.CssSelector("#failures li")).Count == 0);
        search.Clear();
        var type = driver.FindElement(By.Id("failure-type"));
        type.SendKeys("NullReference"); // by exception type: none of that type
        WaitUntil(driver, d => d.FindElements(By.CssSelector("#failures li")).Count == 0);
        type.Clear();
        type.SendKeys("InvalidOperation");
        driver.FindElement(By.Id("failure-job")).SendKeys("DemoJobs.FailAsync"); // and by job name
        WaitUntil(driver, d => d.FindElements(By.CssSelector("#failures li .message")).Any(e => e.Text == marker));
        type.Clear();
        driver.FindElement(By.Id("failure-job")).Clear();
        await slow;

        // Recycle: the worker's pid is replaced on the page.
        string[] before = [];
        WaitUntil(driver, d => (before = PidsOn(d, "default")).Length == 2); // read from one drawing (the page redraws each second)
        Click(driver, By.CssSelector("[data-pool='default'] tr[data-worker-id] button[data-action='recycle']"));
        WaitUntil(driver, d => PidsOn(d, "default") is { Length: 2 } now && now.Except(before).Count() == 1);

        // Cancel a job that ignores its token: it ends and its worker is replaced.
        var stubborn = app.Http.PostAsync("demo/stubborn?ms=600000", null);
        WaitUntil(driver, d => d.FindElements(By.CssSelector("[data-pool='default'] li[data-job-name$='StubbornAsync']")).Count == 1);
        var row = By.XPath("//article[@data-pool='default']//tr[.//li[contains(@data-job-name,'StubbornAsync')]]");
        string? stubbornPid = null;
        WaitUntil(driver, d => (stubbornPid = d.FindElement(row).GetAttribute("data-pid")) is { Length: > 0 });
        Click(driver, By.XPath("//article[@data-pool='default']//li[contains(@data-job-name,'StubbornAsync')]//button[@data-action='cancel']"));
        Assert.False((await stubborn.WaitAsync(Patience)).IsSuccessStatusCode);
        WaitUntil(driver, d => PidsOn(d, "default") is { Length: 2 } now && !now.Contains(stubbornPid));

        // Drain makes new calls wait; resume lets them through.
        Click(driver, By.CssSelector("[data-pool='default'] button[data-action='drain']"));
        WaitUntil(driver, d => d.FindElements(By.CssSelector("[data-pool='default'] .badge[data-state='draining']")).Count == 1);
        var waiting = app.Http.PostAsync("demo/slow?ms=10", null);
        WaitUntil(driver, d => d.FindElement(By.CssSelector("[data-pool='default'] [data-stat='queued'] b")).Text == "1");
        Assert.False(waiting.IsCompleted);
        Click(driver, By.CssSelector("[data-pool='default'] button[data-action='resume']"));
        Assert.True((await waiting.WaitAsync(Patience)).IsSuccessStatusCode);

        // The page ran without a script error or a refused resource (CSP violations are console errors too).
        var errors = driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level >= OpenQA.Selenium.LogLevel.Warning).ToArray();
        Assert.True(errors.Length == 0, string.Join(Environment.NewLine, errors.Select(e => e.Message)));

        // docs/images/dashboard.png is taken here, of a busy pool: PROCESSPOOL_DASHBOARD_SCREENSHOT=<path>.
        if (Environment.GetEnvironmentVariable("PROCESSPOOL_DASHBOARD_SCREENSHOT") is { Length: > 0 } path)
        {
            var busy = Enumerable.Range(0, 40).Select(i => app.Http.PostAsync($"demo/slow?ms={2000 + (i * 150)}", null)).ToList();
            busy.AddRange(Enumerable.Range(0, 3).Select(i => app.Http.PostAsync($"demo/fail?message={Uri.EscapeDataString($"the input file {i} is truncated")}", null)));
            search.Clear();
            WaitUntil(driver, d => d.FindElements(By.CssSelector("[data-pool='default'] li[data-job-name]")).Count >= 20 && d.FindElements(By.CssSelector("#failures li")).Count >= 3);
            browser.Driver.GetScreenshot().SaveAsFile(path);
            output.WriteLine($"screenshot: {path}");
            await Task.WhenAll(busy);
        }
    }

    private static string[] PidsOn(IWebDriver driver, string pool) =>
        [.. driver.FindElements(By.CssSelector($"article[data-pool='{pool}'] tr[data-worker-id]"))
            .Where(r => r.FindElements(By.CssSelector(".badge[data-state='Ready']")).Count == 1)
            .Select(r => r.GetAttribute("data-pid") ?? string.Empty).Order()];

    /// <summary>Clicks what <paramref name="target"/> finds; the page is drawn again on every snapshot, so a button found
    /// a moment before may have been replaced by its next drawing: it is found again then.</summary>
    private static void Click(IWebDriver driver, By target) => WaitUntil(driver, d =>
    {
        d.FindElement(target).Click();
        return true;
    });

    /// <summary>Waits until the page shows what is expected (the page updates from its live feed).</summary>
    private static void WaitUntil(IWebDriver driver, Func<IWebDriver, bool> condition)
    {
        var wait = new WebDriverWait(driver, Patience) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        wait.Until(condition);
    }
}

import type { Browser, Page } from 'playwright-core';

// Driving Node-RED's editor from a test: what several editor tests need the same way.

/** A new tab with the editor at `base`, loaded as far as the palette; script errors on the page go to `errors`. */
export async function openEditor(browser: Browser, base: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(base);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="mic-in"]', { timeout: 60_000 });
  return page;
}

type JQuery = (selector: string) => { find(selector: string): { length: number } };

/**
 * Waits until nothing slides any more inside `scope`. Node-RED opens a tree folder with a jQuery
 * slide (up to 400 ms after its listing arrives, then 200 ms) and slides notifications in (300 ms).
 * Playwright finds a sliding item visible and stable and scrolls it into view inside the clipped,
 * growing list; when the slide ends the list is unclipped and scrolls back, the rows move under
 * the pointer, and the click lands beside the item: nothing is selected (on a loaded machine,
 * where Playwright's mouse events are further apart, often enough to fail a CI run).
 */
export async function stopsSliding(page: Page, scope: string): Promise<void> {
  await page.waitForFunction((s) => (window as unknown as { $: JQuery }).$(s).find(':animated').length === 0, scope, { timeout: 10_000 });
}

/** Clicks an item of a library tree in the import dialog once it is shown (its folder's listing has come) and its folder has finished opening. */
export async function clickTreeItem(page: Page, tree: string, label: string): Promise<void> {
  const exactly = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const item = page.locator(tree).locator('.red-ui-treeList-label-text').filter({ hasText: exactly });
  await item.waitFor({ state: 'visible', timeout: 30_000 });
  await stopsSliding(page, tree);
  await item.click();
}

/** Waits for a condition on the editor's state; on a timeout, says which and what the state was. */
export async function inEditor(page: Page, what: string, condition: (arg: string[]) => boolean, arg: string[], state: () => Promise<string>): Promise<void> {
  try {
    await page.waitForFunction(condition, arg, { timeout: 10_000 });
  } catch (err) {
    throw new Error(`waiting until ${what}: ${(err as Error).message.split('\n')[0]}\n${await state()}`, { cause: err });
  }
}

/** A library tree of the import dialog as shown: each item, whether selected, and the Import button. */
export async function treeState(page: Page, tree: string): Promise<string> {
  return page.evaluate((t) => {
    const rows = Array.from(document.querySelectorAll(`${t} .red-ui-treeList-label`)).map(
      (l) => `${l.classList.contains('selected') ? '* ' : '  '}${l.textContent}${l.parentElement?.classList.contains('expanded') ? ' (open)' : ''}`,
    );
    const ok = document.getElementById('red-ui-clipboard-dialog-ok') as HTMLButtonElement | null;
    return `${rows.join('\n')}\nImport button: ${ok ? (ok.disabled ? 'disabled' : 'enabled') : 'absent'}`;
  }, tree);
}

/** The import dialog's examples tree: Menu ▸ Import ▸ Examples, with a package's folder opened. Returns the tree's selector. */
export async function openExamples(page: Page, pkgName: string): Promise<string> {
  await page.click('#red-ui-header-button-sidemenu');
  await page.click('#menu-item-import');
  await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples');
  const tree = '#red-ui-clipboard-dialog-import-tab-examples';
  // The library browser selects its root 100 ms after the dialog opens: wait for that before choosing anything.
  await inEditor(page, 'the examples tree selects its root', ([t]) => document.querySelector(`${t} .red-ui-treeList-label.selected`) !== null, [tree], () => treeState(page, tree));
  await clickTreeItem(page, tree, pkgName);
  await inEditor(page, `the ${pkgName} folder is selected`, ([t, name]) => document.querySelector(`${t} .red-ui-treeList-label.selected`)?.textContent === name, [tree, pkgName], () => treeState(page, tree));
  return tree;
}

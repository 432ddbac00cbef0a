/** Takes `item` out of the list of `key` in `lists`, and the list out of the map once it is empty. */
export function removeWaiting<K, T>(lists: Map<K, T[]>, key: K, item: T): void {
  const list = lists.get(key);
  if (!list) return;
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) lists.delete(key);
}

//! Independent work spread over the machine's cores: loading files, resolving projects.

/// Runs `work` on contiguous parts of `items`, one part per core, on scoped threads, and
/// gives the parts' results in order; when the items make a single part, it runs on the
/// calling thread. A panic in a part is resumed here.
pub fn in_parts<T: Send, R: Send>(items: Vec<T>, work: impl Fn(Vec<T>) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let size = items.len().div_ceil(cores).max(1);
    if items.len() <= size {
        return vec![work(items)];
    }
    let mut parts = Vec::new();
    let mut rest = items;
    while rest.len() > size {
        let tail = rest.split_off(size);
        parts.push(std::mem::replace(&mut rest, tail));
    }
    parts.push(rest);
    let work = &work;
    std::thread::scope(|scope| {
        let running: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_item_once_in_order() {
        for n in [0, 1, 2, 3, 7, 100] {
            let items: Vec<usize> = (0..n).collect();
            let parts = in_parts(items, |part| part);
            let joined: Vec<usize> = parts.into_iter().flatten().collect();
            assert_eq!(joined, (0..n).collect::<Vec<_>>());
        }
    }
}

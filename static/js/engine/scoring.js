export function progress(){}; export function scoreAudit(){}
